/**
 * The independent leak oracle: every form in which a secret could reach a child, computed here
 * from first principles (Buffer encodings and byte tables written out in this file), never by
 * calling src/. A leak check that asked the code under test which forms to look for would forget
 * exactly what that code forgets (issue 13: dropping base64url from src passed every test).
 *
 * Nothing in this file may import from src/ (test/security/oracle.test.ts checks that).
 */
import { randomBytes } from 'node:crypto';
import { registerSensitive } from './suite-registry.js';

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** encodeURIComponent also leaves these unescaped */
const URI_COMPONENT_EXTRA = /[!*'()]/;

function percentEncode(v: string, keep: (ch: string) => boolean, lower = false): string {
  let out = '';
  for (const byte of Buffer.from(v, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && keep(ch)) out += ch;
    else {
      const h = byte.toString(16).padStart(2, '0');
      out += '%' + (lower ? h : h.toUpperCase());
    }
  }
  return out;
}

/** JSON string-literal body, escaping written out by hand (RFC 8259 §7). */
function jsonEscape(v: string, escapeSlash: boolean): string {
  let out = '';
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/' && escapeSlash) out += '\\/';
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out;
}

/** The names of the forms, so a test can echo each one and say which leaked. */
export type LeakFormName =
  | 'raw'
  | 'uri-component'
  | 'uri-component-lower'
  | 'rfc3986'
  | 'rfc3986-lower'
  | 'form'
  | 'base64'
  | 'base64-unpadded'
  | 'base64url'
  | 'hex'
  | 'hex-upper'
  | 'json'
  | 'json-slash'
  | 'tail';

/** Each form of one secret, by name (several names may give the same string). */
export function leakForms(v: string): Record<LeakFormName, string> {
  const bytes = Buffer.from(v, 'utf8');
  const b64 = bytes.toString('base64');
  const uri = (ch: string) => UNRESERVED.test(ch) || URI_COMPONENT_EXTRA.test(ch);
  return {
    raw: v,
    'uri-component': percentEncode(v, uri),
    'uri-component-lower': percentEncode(v, uri, true),
    rfc3986: percentEncode(v, (ch) => UNRESERVED.test(ch)),
    'rfc3986-lower': percentEncode(v, (ch) => UNRESERVED.test(ch), true),
    form: percentEncode(v, (ch) => UNRESERVED.test(ch) || ch === ' ').replace(/ /g, '+'),
    base64: b64,
    'base64-unpadded': b64.replace(/=+$/, ''),
    base64url: b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    hex: bytes.toString('hex'),
    'hex-upper': bytes.toString('hex').toUpperCase(),
    json: jsonEscape(v, false),
    'json-slash': jsonEscape(v, true),
    // the distinctive random part alone, in case a transformation kept only part of the value
    tail: /[0-9a-f]{24}/.exec(v)?.[0] ?? v,
  };
}

/** Every distinct form of every secret. */
export function secretForms(secrets: Record<string, string>): string[] {
  const out = new Set<string>();
  for (const v of Object.values(secrets)) for (const f of Object.values(leakForms(v))) if (f.length > 0) out.add(f);
  return [...out];
}

/** The first form of any secret found in `text` (case-insensitively too), or undefined. */
export function findLeak(text: string, secrets: Record<string, string>): { secret: string; form: string } | undefined {
  const lower = text.toLowerCase();
  for (const [name, v] of Object.entries(secrets)) {
    for (const [form, f] of Object.entries(leakForms(v))) {
      if (f.length > 0 && (text.includes(f) || lower.includes(f.toLowerCase()))) return { secret: name, form };
    }
  }
  return undefined;
}

let sentinelCount = 0;

/**
 * A unique sentinel secret: `sk-SENTINEL-<tag>-<24 random hex>-…` followed by '~', '/' and '?' at
 * offsets that put '+' and '/' into its base64 (so base64 and base64url differ), and a length that
 * cycles through every residue mod 3 from one call to the next (so base64 padding varies).
 * Only printable ASCII: it must travel in HTTP headers, query strings, paths and env files.
 *
 * `headerName`: for a test that reflects the key into a response header NAME. No printable ASCII
 * byte allowed in a header name yields '/' in base64 (only '?', DEL and bytes >= 0x80 do), so
 * such a sentinel gets the '+' (from '~') but not the '/'.
 */
export function sentinel(tag: string, mod3?: 0 | 1 | 2, opts: { headerName?: boolean } = {}): string {
  let s = `sk-SENTINEL-${tag}-${randomBytes(12).toString('hex')}-`;
  while (s.length % 3 !== 2) s += 'x';
  // '~' (0x7e) closes a base64 group as '+', '?' (0x3f) as '/'
  s += opts.headerName ? '~x-~' : '~x/?';
  const want = mod3 ?? (sentinelCount++ % 3);
  while (s.length % 3 !== want) s += 'z';
  registerSensitive(s); // the suite-wide audit scan looks for it too
  return s;
}

/** The properties a sentinel must have; tests assert them so a future edit cannot weaken them. */
export function sentinelShapeProblems(v: string, opts: { headerName?: boolean } = {}): string[] {
  const b64 = Buffer.from(v).toString('base64');
  const problems: string[] = [];
  if (!b64.includes('+')) problems.push('base64 has no +');
  if (!b64.includes('/') && !opts.headerName) problems.push('base64 has no /');
  if (b64.replace(/=+$/, '') === Buffer.from(v).toString('base64url')) problems.push('base64 equals base64url');
  if (!/[0-9a-f]{24}/.test(v)) problems.push('no random hex tail');
  return problems;
}
