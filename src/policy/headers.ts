/**
 * Header policy (SPEC §6). Pure: no I/O.
 *
 * Decisions:
 * - Header names compare case-insensitively; output names are lower-case.
 * - Auth-class request headers (AUTH_CLASS_HEADERS plus the provider's auth slots) set by the caller
 *   are refused with auth_header_rejected, whatever their value (even empty). The broker removes
 *   headers whose value IS the run token before calling checkCallerHeaders.
 * - forwardableRequestHeaders strips hop-by-hop headers (and any header named in `Connection`),
 *   reserved ones (host, content-length, expect, forwarded, x-forwarded-*, x-real-ip, via,
 *   client-IP headers, x-aivault-*, sec-websocket-*, pseudo-headers), auth-class headers (defence in depth: the
 *   broker injects auth itself), and the caller's accept-encoding: the broker always sends
 *   `accept-encoding: identity` so it can redact the response body.
 * - A request header value containing CR, LF or NUL (or any control char other than TAB, or a char
 *   above U+00FF) or a name that is not an RFC 9110 token throws AivaultError('invalid_request'):
 *   such a request is malformed, never silently "fixed".
 * - sanitizeResponseHeaders strips hop-by-hop, set-cookie, set-cookie2, cookie, authorization,
 *   proxy-authorization, x-api-key, api-key, alt-svc (the client talks to the loopback broker, not
 *   the upstream), sec-websocket-* (only a handshake the broker performs sets them), and content-length always (the body may be rewritten by redaction, so the broker
 *   streams it with chunked encoding). content-encoding is stripped when `decoded` is true (the
 *   broker decompressed the body). Response values with CR/LF/NUL are dropped.
 */
import { AivaultError } from '../errors/aivault-error.js';

export type HeaderBag = Record<string, string | string[] | undefined>;

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/** Auth-class headers (SPEC §6): a caller may never set them. */
export const AUTH_CLASS_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
  'api-key',
]);

/** Request headers the broker owns or that would leak/forge client identity upstream. */
export const RESERVED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'expect',
  'forwarded',
  'x-real-ip',
  'via',
  'accept-encoding',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
]);

/** Response headers never passed back to the caller. */
export const STRIPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'alt-svc',
  'content-length',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// TAB, visible ASCII, space, obs-text (latin1). No CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isValidHeaderName(name: string): boolean {
  return TOKEN.test(name);
}
export function isValidHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

const NO_NAMES: ReadonlySet<string> = new Set();

/** obj[key] = value as an own data property, also for '__proto__' (which would set the prototype). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** Header names listed in Connection (those are hop-by-hop for this message). */
function connectionListed(headers: HeaderBag): ReadonlySet<string> {
  let out: Set<string> | undefined;
  for (const k of Object.keys(headers)) {
    if (k.length !== 10 || k.toLowerCase() !== 'connection') continue;
    for (const s of values(headers[k])) {
      for (const t of s.includes(',') ? s.split(',') : [s]) {
        const name = t.trim().toLowerCase();
        // hop-by-hop names (keep-alive, the usual one) are stripped anyway: not worth a set
        if (name && !HOP_BY_HOP.has(name)) (out ??= new Set()).add(name);
      }
    }
  }
  return out ?? NO_NAMES;
}

const OK = { ok: true } as const;

/** The names lower-cased (the list itself when it already is: auth slots always are). */
function lowerList(names: readonly string[]): readonly string[] {
  for (const n of names) if (n !== n.toLowerCase()) return names.map((h) => h.toLowerCase());
  return names;
}

export function checkCallerHeaders(
  headers: HeaderBag,
  authSlots: { headers: string[] },
): { ok: true } | { ok: false; code: 'auth_header_rejected'; header: string } {
  const slots = lowerList(authSlots.headers);
  for (const k of Object.keys(headers)) {
    if (headers[k] === undefined) continue;
    const name = k.toLowerCase();
    if (AUTH_CLASS_HEADERS.has(name) || slots.includes(name)) return { ok: false, code: 'auth_header_rejected', header: name };
  }
  return OK;
}

function isStrippedRequestHeader(name: string, extra: readonly string[], conn: ReadonlySet<string>): boolean {
  return (
    HOP_BY_HOP.has(name) ||
    RESERVED_REQUEST_HEADERS.has(name) ||
    AUTH_CLASS_HEADERS.has(name) ||
    extra.includes(name) ||
    conn.has(name) ||
    name.startsWith('x-forwarded-') ||
    name.startsWith('x-aivault-') ||
    name.startsWith('sec-websocket-') ||
    name.startsWith(':')
  );
}

/**
 * Headers to send upstream. Throws AivaultError('invalid_request') on a malformed name or value.
 * `extraStrip` adds more names to drop (e.g. the provider's auth slots). Multiple values of one
 * header are joined with ', '. Always sets `accept-encoding: identity`.
 */
export function forwardableRequestHeaders(headers: HeaderBag, extraStrip: string[] = []): Record<string, string> {
  const extra = lowerList(extraStrip);
  const conn = connectionListed(headers);
  // a plain object (a null-prototype one is a slow dictionary): own-property checks, and
  // '__proto__' defined as data, like the spread copy this used to return
  const out: Record<string, string> = {};
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (!name.startsWith(':') && !isValidHeaderName(k)) throw new AivaultError('invalid_request', 'malformed request header name');
    let joined: string;
    if (typeof v === 'string') {
      if (!isValidHeaderValue(v)) throw new AivaultError('invalid_request', `request header '${isValidHeaderName(k) ? name : '?'}' has a forbidden character (CR, LF, NUL or control)`);
      joined = v;
    } else {
      for (const s of Array.isArray(v) ? v : [v]) {
        if (typeof s !== 'string' || !isValidHeaderValue(s))
          throw new AivaultError('invalid_request', `request header '${isValidHeaderName(k) ? name : '?'}' has a forbidden character (CR, LF, NUL or control)`);
      }
      joined = values(v).join(', ');
    }
    if (isStrippedRequestHeader(name, extra, conn)) continue;
    setOwn(out, name, Object.hasOwn(out, name) ? out[name] + ', ' + joined : joined);
  }
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * Headers to return to the caller. `decoded`: the broker decompressed the body, so
 * content-encoding goes too. content-length is always dropped (see module comment).
 */
export function sanitizeResponseHeaders(
  headers: HeaderBag,
  opts: { decoded?: boolean } = {},
): Record<string, string | string[]> {
  const conn = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (!isValidHeaderName(k)) continue;
    if (HOP_BY_HOP.has(name) || STRIPPED_RESPONSE_HEADERS.has(name) || conn.has(name)) continue;
    if (opts.decoded && name === 'content-encoding') continue;
    if (name.startsWith('x-aivault-')) continue; // only the broker itself sets x-aivault-*
    if (name.startsWith('sec-websocket-')) continue; // a WebSocket handshake is the broker's own (websocket.ts)
    const prev = out[name];
    if (typeof v === 'string' && prev === undefined) {
      // one value, first of its name (nearly every response header)
      if (isValidHeaderValue(v)) out[name] = v;
      continue;
    }
    const vs = values(v).filter((s) => typeof s === 'string' && isValidHeaderValue(s));
    if (vs.length === 0) continue;
    const merged = prev === undefined ? vs : [...values(prev), ...vs];
    out[name] = merged.length === 1 ? merged[0]! : merged;
  }
  return out;
}
