/**
 * Auth injection (SPEC §6). Pure: receives secret values, returns a new request, never logs.
 *
 * Strategies implemented: header, query, path, basic, multi-header, multi-query. oauth2, aws-sigv4,
 * hmac, mtls and anything unknown throw AivaultError('policy_violation') — fail closed, nothing is
 * sent. Rendered header values with CR/LF/NUL, a basic username with ':', and a path prefix that
 * would not be a clean normalised path also throw policy_violation.
 *
 * - header / multi-header: the header is set (lower-case name), replacing any same-named header.
 * - query / multi-query: any existing parameter with the same name (decode- and case-aware) is
 *   removed, then `name=value` is appended with RFC 3986 encoding.
 * - path: the prefix template is rendered with every field value encoded as one opaque path
 *   segment (encodePathSegment: '/', '?', '#', '%' and friends become %XX; ':' stays raw, so a
 *   Telegram token '123:ABC' yields '/bot123:ABC'), then joined to the request path:
 *   '/bot<secret>' + '/sendMessage'. A prefix's trailing '/' is not doubled.
 * - basic: `authorization: Basic base64(utf8(username + ':' + password))`.
 */
import { AivaultError } from '../errors/aivault-error.js';
import type { AuthSpec } from '../registry/types.js';
import { encodePathSegment, normalizePath } from '../policy/path.js';
import { isValidHeaderName, isValidHeaderValue } from '../policy/headers.js';
import { appendParam, removeParams } from '../policy/query.js';
import { renderTemplate } from './template.js';

export type OutgoingRequest = { path: string; query: string; headers: Record<string, string> };

export const SUPPORTED_STRATEGIES: ReadonlySet<string> = new Set(['header', 'query', 'path', 'basic', 'multi-header', 'multi-query']);

function setHeader(headers: Record<string, string>, name: string, value: string): void {
  if (typeof name !== 'string' || !isValidHeaderName(name)) throw new AivaultError('policy_violation', 'auth header name is invalid');
  if (!isValidHeaderValue(value)) throw new AivaultError('policy_violation', `auth value for header '${name.toLowerCase()}' contains a forbidden character`);
  const lower = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) delete headers[k];
  headers[lower] = value;
}

function setParam(query: string, name: string, value: string): string {
  if (typeof name !== 'string' || name === '') throw new AivaultError('policy_violation', 'auth query parameter name is invalid');
  return appendParam(removeParams(query, [name]), name, value);
}

/** Join a rendered path-auth prefix and a normalised request path. */
export function joinPathPrefix(prefix: string, path: string): string {
  const pre = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return pre + (path.startsWith('/') ? path : '/' + path);
}

/** Render a path-auth prefix; every field value becomes an opaque segment fragment. */
export function renderPathPrefix(prefixTemplate: string, fields: Record<string, string>): string {
  const pre = renderTemplate(prefixTemplate, fields, encodePathSegment);
  const n = normalizePath(pre);
  if (!pre.startsWith('/') || !n.ok || n.path !== pre || n.query !== '' || pre.includes('?'))
    throw new AivaultError('policy_violation', 'path auth prefix does not render to a clean path');
  return pre;
}

export function basicHeaderValue(username: string, password: string): string {
  if (username.includes(':')) throw new AivaultError('policy_violation', "basic auth username must not contain ':'");
  return 'Basic ' + Buffer.from(username + ':' + password, 'utf8').toString('base64');
}

export function applyAuth(spec: AuthSpec, fields: Record<string, string>, req: OutgoingRequest): OutgoingRequest {
  const headers: Record<string, string> = { ...req.headers };
  let { path, query } = req;
  const s = spec as { strategy?: unknown };
  switch (s.strategy) {
    case 'header': {
      const sp = spec as Extract<AuthSpec, { strategy: 'header' }>;
      setHeader(headers, sp.header, renderTemplate(sp.template, fields));
      break;
    }
    case 'query': {
      const sp = spec as Extract<AuthSpec, { strategy: 'query' }>;
      query = setParam(query, sp.param, renderTemplate(sp.template, fields));
      break;
    }
    case 'path': {
      const sp = spec as Extract<AuthSpec, { strategy: 'path' }>;
      path = joinPathPrefix(renderPathPrefix(sp.prefix, fields), path);
      break;
    }
    case 'basic': {
      const sp = spec as Extract<AuthSpec, { strategy: 'basic' }>;
      const user = renderTemplate(sp.username, fields);
      const pass = renderTemplate(sp.password ?? '', fields);
      setHeader(headers, 'authorization', basicHeaderValue(user, pass));
      break;
    }
    case 'multi-header': {
      const sp = spec as Extract<AuthSpec, { strategy: 'multi-header' }>;
      const entries = Object.entries(sp.headers ?? {});
      if (entries.length === 0) throw new AivaultError('policy_violation', 'multi-header auth declares no headers');
      for (const [name, t] of entries) setHeader(headers, name, renderTemplate(t, fields));
      break;
    }
    case 'multi-query': {
      const sp = spec as Extract<AuthSpec, { strategy: 'multi-query' }>;
      const entries = Object.entries(sp.params ?? {});
      if (entries.length === 0) throw new AivaultError('policy_violation', 'multi-query auth declares no parameters');
      for (const [name, t] of entries) query = setParam(query, name, renderTemplate(t, fields));
      break;
    }
    default: {
      // Name only the strategies SPEC §6 declares; never echo an arbitrary config string.
      const known = ['oauth2', 'aws-sigv4', 'hmac', 'mtls'];
      const label = typeof s.strategy === 'string' && known.includes(s.strategy) ? `'${s.strategy}'` : '(unknown)';
      throw new AivaultError('policy_violation', `auth strategy ${label} is not supported by this broker; request refused`);
    }
  }
  return { path, query, headers };
}
