/**
 * `{{field}}` templates for auth values (registry §3). Pure.
 * Unknown field, malformed braces, or an empty / non-string field value → AivaultError('policy_violation'):
 * the credential is misconfigured, so the broker fails closed and sends nothing.
 */
import { AivaultError } from '../errors/aivault-error.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Field names a template refers to, in order of first appearance. */
export function templateFields(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/**
 * Render `template`, substituting each `{{field}}` with `encode(fields[field])` (identity by
 * default). The template's literal text is never encoded.
 */
export function renderTemplate(
  template: string,
  fields: Record<string, string>,
  encode: (value: string) => string = (v) => v,
): string {
  if (typeof template !== 'string') throw new AivaultError('policy_violation', 'auth template is not a string');
  let out = '';
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!Object.prototype.hasOwnProperty.call(fields, name) || typeof fields[name] !== 'string')
      throw new AivaultError('policy_violation', `auth template refers to unknown field '${name}'`);
    const literal = template.slice(last, m.index);
    if (literal.includes('{{') || literal.includes('}}')) throw new AivaultError('policy_violation', 'malformed auth template');
    if (/[\uD800-\uDFFF]/u.test(fields[name]!)) throw new AivaultError('policy_violation', `auth field '${name}' is not well-formed Unicode`);
    if (fields[name] === '') throw new AivaultError('policy_violation', `auth field '${name}' is empty`);
    out += literal + encode(fields[name]!);
    last = m.index + m[0].length;
  }
  const rest = template.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) throw new AivaultError('policy_violation', 'malformed auth template');
  return out + rest;
}
