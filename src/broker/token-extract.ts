/**
 * Finding the run token in a caller request (SPEC §6). The token may sit in
 * `Authorization: Bearer`, `x-api-key`, and in passthrough mode in the provider's own auth slots
 * (header, or query parameter). A header/parameter whose value IS the token is consumed (removed,
 * never forwarded); every other auth-class value stays and is later refused by policy
 * (auth_header_rejected).
 *
 * Outcome when no slot holds a live token: token_expired if some slot held a revoked or expired
 * token, token_invalid if some slot held anything, token_missing otherwise.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseQuery } from '../policy/query.js';
import { setOwn } from '../policy/headers.js';
import { deny } from './errors.js';
import type { TokenEntry, TokenTable } from './tokens.js';

export interface FoundToken {
  token: string;
  entry: TokenEntry;
}

const BEARER = /^\s*(?:bearer|token)\s+(\S+)\s*$/i;
const BASIC = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i;
/** A placeholder (SPEC §10): the run token after a short prefix a tool checks for (`sk-`, `ghp_`). */
const PLACEHOLDER = /^[A-Za-z0-9_-]{1,24}([A-Za-z0-9_-]{43})$/;

/** The value itself, and the run token inside it when it has the placeholder shape. */
export function tokenForms(value: string): string[] {
  const p = value.length > 43 ? PLACEHOLDER.exec(value) : null;
  return p ? [value, p[1]!] : [value];
}

/** The candidate token strings a header value can carry (Bearer, `token x`, Basic user or password, placeholders). */
export function headerCandidates(value: string): string[] {
  const out = [value.trim()];
  const b = BEARER.exec(value);
  if (b) out.push(b[1]!);
  const basic = BASIC.exec(value);
  if (basic) {
    const text = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon >= 0) out.push(text.slice(0, colon), text.slice(colon + 1));
  }
  return out.flatMap(tokenForms);
}

/** `Bearer <43 base64url chars>` (scheme in any case, one space, nothing else): the 43 characters. */
function bearerValue(v: string | string[] | undefined): string | undefined {
  if (typeof v !== 'string' || v.length !== 50 || v.charCodeAt(6) !== 0x20 || v.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  return v.slice(7);
}

function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * Look through `extra` values (a path-auth slot, SPEC §7a), `headerNames` and (raw) `query` params
 * named in `queryParams` for a live token.
 * Throws BrokerDenial token_missing / token_invalid / token_expired.
 */
export function findToken(
  tokens: TokenTable,
  headers: IncomingHttpHeaders,
  headerNames: readonly string[],
  query: string,
  queryParams: readonly string[],
  extra: readonly string[] = [],
): FoundToken & { deadRunId?: string } {
  // The usual case first: `Authorization: Bearer <token>` holding a live token. This is the value
  // the full search below would find first (no path slot, authorization is the first header it
  // looks in, and the Bearer form is the first candidate that can be token-shaped).
  if (extra.length === 0 && headerNames[0] === 'authorization') {
    const t = bearerValue(headers.authorization);
    if (t !== undefined) {
      const r = tokens.lookup(t);
      if (r.ok) return { token: t, entry: r.entry };
    }
  }
  let present = false;
  let expiredRun: string | undefined;
  let sawExpired = false;
  const tryValue = (v: string): FoundToken | undefined => {
    present = true;
    const r = tokens.lookup(v);
    if (r.ok) return { token: v, entry: r.entry };
    if (r.code === 'token_expired') {
      sawExpired = true;
      expiredRun = r.runId;
    }
    return undefined;
  };
  for (const v of extra) {
    const f = tryValue(v);
    if (f) return f;
  }
  for (const name of headerNames) {
    for (const value of headerValues(headers[name])) {
      for (const c of headerCandidates(value)) {
        const f = tryValue(c);
        if (f) return f;
      }
    }
  }
  if (queryParams.length > 0 && query) {
    const owned = new Set(queryParams.map((p) => p.toLowerCase()));
    for (const p of parseQuery(query)) {
      if (p.name === undefined || !owned.has(p.name) || p.rawValue === undefined) continue;
      let v: string;
      try {
        v = decodeURIComponent(p.rawValue.replace(/\+/g, ' '));
      } catch {
        present = true;
        continue;
      }
      for (const c of tokenForms(v)) {
        const f = tryValue(c);
        if (f) return f;
      }
    }
  }
  if (sawExpired) {
    const e = deny('token_expired', 'the run token has expired or its run has ended');
    (e as { runId?: string }).runId = expiredRun;
    throw e;
  }
  if (present) throw deny('token_invalid', 'the run token is not valid');
  throw deny('token_missing', 'a run token is required (Authorization: Bearer <token>)');
}

/**
 * Remove every header value that carries the token: in a token slot (`names`, also inside Basic
 * credentials), or anywhere at all in any other header. The token is consumed wherever the caller
 * put it; it never travels upstream. Returns a new header bag.
 */
export function consumeTokenHeaders(headers: IncomingHttpHeaders, names: readonly string[], token: string): IncomingHttpHeaders {
  // built key by key (no copy-then-delete: a deleted key turns the object into a slow dictionary)
  const out: IncomingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (typeof v === 'string') {
      // one value (nearly every header): dropped when it carries the token, else kept as it is
      if (!(v.includes(token) || (names.includes(name) && headerCandidates(v).includes(token)))) setOwn(out, name, v);
      continue;
    }
    const vs = headerValues(v);
    if (vs.length === 0) {
      setOwn(out, name, v);
      continue;
    }
    const kept = vs.filter((v) => !v.includes(token) && !(names.includes(name) && headerCandidates(v).includes(token)));
    if (kept.length === vs.length) setOwn(out, name, v);
    else if (kept.length > 0) setOwn(out, name, kept.length === 1 && name !== 'set-cookie' ? kept[0]! : kept.join(', '));
  }
  return out;
}
