/**
 * Method-override policy (SPEC §6 "method allowed"). Pure: no I/O.
 *
 * Many upstream frameworks (Google APIs, Rails/Rack, Laravel, Express method-override, ASP.NET)
 * let a request name another method than its request line: `X-HTTP-Method-Override: DELETE` on a
 * POST is served as a DELETE. Such a request is treated as carrying every method it names.
 *
 * Decisions:
 * - Override carriers: the headers `x-http-method-override`, `x-http-method`, `x-method-override`,
 *   compared case-insensitively with `_` and `-` equivalent (CGI-style servers map
 *   `X_HTTP_METHOD_OVERRIDE` and `X-HTTP-Method-Override` to the same variable); and the query
 *   parameter `_method` compared like every owned parameter (percent-decoded, case-insensitive,
 *   `[...]` suffix dropped: `%5FMETHOD[]` is `_method`).
 * - A carrier's value is a comma list (duplicate headers arrive joined by ", " or as an array);
 *   each element is trimmed of spaces/tabs; empty elements name nothing.
 * - Every named method must be an RFC 9110 token allowed by the capability (case-insensitive, as
 *   the request line's method): otherwise the request is `method_not_allowed`. A value that is not
 *   a method token, or a `_method` value that does not percent-decode, is refused (fail closed).
 * - When every named method is allowed the request is forwarded unchanged (the override is then
 *   harmless: the upstream does something the capability allows anyway).
 * - Request bodies are not inspected (a form body's `_method` field is outside this check).
 */
import { parseQuery } from './query.js';

/** Canonical names of the override headers (lower-case, '-' separated). */
export const OVERRIDE_HEADERS: readonly string[] = ['x-http-method-override', 'x-http-method', 'x-method-override'];
/** Canonical name of the override query parameter. */
export const OVERRIDE_PARAM = '_method';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type OverrideVerdict =
  | { ok: true; methods: string[] }
  | { ok: false; code: 'method_not_allowed'; source: string; method: string | undefined };

/** True when a header name is one of the override headers in any case or `_`/`-` spelling. */
export function isOverrideHeader(name: string): boolean {
  // every override name starts with 'x': any other printable ASCII first character (no space to trim) is not one
  const c = name.charCodeAt(0);
  if (c !== 0x78 && c !== 0x58 && c > 0x20 && c < 0x80) return false;
  const k = name.trim().toLowerCase().replace(/_/g, '-');
  return OVERRIDE_HEADERS.includes(k);
}

function elements(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((s) => s !== '');
}

function decode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Checks the override carriers of a request against `allowed` (normally
 * `(m) => methodAllowed(m, capability)`). `headers` may use any name case; `query` is the raw
 * query without '?'. Returns the upper-cased methods named, or the first refusal.
 */
export function checkMethodOverride(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  query: string,
  allowed: (method: string) => boolean,
): OverrideVerdict {
  const methods: string[] = [];
  const check = (source: string, value: string): OverrideVerdict | undefined => {
    for (const el of elements(value)) {
      if (!TOKEN.test(el)) return { ok: false, code: 'method_not_allowed', source, method: undefined };
      const m = el.toUpperCase();
      if (!allowed(m)) return { ok: false, code: 'method_not_allowed', source, method: m };
      if (!methods.includes(m)) methods.push(m);
    }
    return undefined;
  };
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined || !isOverrideHeader(name)) continue;
    const source = name.toLowerCase().replace(/_/g, '-');
    for (const one of Array.isArray(v) ? v : [v]) {
      const r = check(source, String(one));
      if (r) return r;
    }
  }
  if (query === '') return { ok: true, methods };
  for (const p of parseQuery(query)) {
    // a name that does not decode could be `_method` in disguise: refused (fail closed)
    if (p.name === undefined && p.rawName.toLowerCase().includes('method'))
      return { ok: false, code: 'method_not_allowed', source: OVERRIDE_PARAM, method: undefined };
    if (p.name !== OVERRIDE_PARAM) continue;
    if (p.rawValue === undefined) continue; // `?_method` alone names nothing
    const v = decode(p.rawValue);
    if (v === undefined) return { ok: false, code: 'method_not_allowed', source: OVERRIDE_PARAM, method: undefined };
    const r = check(OVERRIDE_PARAM, v);
    if (r) return r;
  }
  return { ok: true, methods };
}
