/**
 * Every form in which an injected secret may appear on the wire, for the response redactor and
 * for display redaction. Pure.
 *
 * For each non-empty field value: the raw value, its encodeURIComponent / RFC 3986 / form ('+')
 * encodings (upper- and lower-case hex), its path-segment encoding, its base64 (padded and not)
 * and base64url, its hex (lower and upper case), and its JSON string escaping (also with '\/').
 * With the auth spec also: the rendered templates (e.g. 'Bearer sk-…') and query values, and for
 * basic auth the base64 of 'user:pass' and the whole 'Basic …' value.
 * Result: de-duplicated, non-empty, longest first (so a redactor replaces the longest match first).
 * Very short values are still listed; whether to redact them is the redactor's call.
 */
import type { AuthSpec } from '../registry/types.js';
import { encodePathSegment } from '../policy/path.js';
import { encodeQueryComponent } from '../policy/query.js';
import { renderTemplate } from './template.js';
import { basicHeaderValue } from './apply.js';

function lowerHex(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

function forms(v: string): string[] {
  const uri = encodeURIComponent(v);
  const rfc = encodeQueryComponent(v);
  const form = rfc.replace(/%20/g, '+');
  const seg = encodePathSegment(v);
  const b64 = Buffer.from(v, 'utf8').toString('base64');
  const b64url = Buffer.from(v, 'utf8').toString('base64url');
  const hex = Buffer.from(v, 'utf8').toString('hex');
  const json = JSON.stringify(v).slice(1, -1);
  return [v, uri, rfc, form, seg, lowerHex(uri), lowerHex(rfc), lowerHex(form), lowerHex(seg), b64, b64.replace(/=+$/, ''), b64url, hex, hex.toUpperCase(), json, json.replace(/\//g, '\\/')];
}

function tryRender(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export function secretValuesOf(fields: Record<string, string>, spec?: AuthSpec): string[] {
  const set = new Set<string>();
  const add = (s: string | undefined): void => {
    if (typeof s === 'string' && s.length > 0) set.add(s);
  };
  for (const v of Object.values(fields)) if (typeof v === 'string' && v.length > 0) for (const f of forms(v)) add(f);
  if (spec) {
    switch (spec.strategy) {
      case 'header':
        add(tryRender(() => renderTemplate(spec.template, fields)));
        break;
      case 'query': {
        const r = tryRender(() => renderTemplate(spec.template, fields));
        if (r) for (const f of forms(r)) add(f);
        break;
      }
      case 'path':
        // each field's path-segment form is already listed; the rendered prefix itself is not, so
        // that redacting a URL keeps its '/bot' structure.
        break;
      case 'basic': {
        const hv = tryRender(() => basicHeaderValue(renderTemplate(spec.username, fields), renderTemplate(spec.password ?? '', fields)));
        if (hv) {
          add(hv);
          add(hv.slice('Basic '.length));
        }
        break;
      }
      case 'multi-header':
        for (const t of Object.values(spec.headers ?? {})) add(tryRender(() => renderTemplate(t, fields)));
        break;
      case 'multi-query':
        for (const t of Object.values(spec.params ?? {})) {
          const r = tryRender(() => renderTemplate(t, fields));
          if (r) for (const f of forms(r)) add(f);
        }
        break;
      default:
        break;
    }
  }
  return [...set].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}
