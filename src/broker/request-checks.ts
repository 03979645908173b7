/** Checks every door shares before the route is known: the run token lookup, method overrides, the audit path. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Capability } from '../registry/types.js';
import { methodAllowed } from '../policy/capability.js';
import { checkMethodOverride } from '../policy/method-override.js';
import { deny } from './errors.js';
import { findToken, type FoundToken } from './token-extract.js';
import type { PipelineContext, RequestRecord } from './pipeline-types.js';

export const BASE_TOKEN_HEADERS = ['authorization', 'x-api-key'];
export const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'PURGE']);

export function auditPath(raw: string): string {
  const q = raw.indexOf('?');
  return (q === -1 ? raw : raw.slice(0, q)).slice(0, 512);
}

/** A method-override header or `_method` parameter naming a method the capability does not allow. */
export function refuseMethodOverride(headers: Record<string, string | string[] | undefined>, query: string, cap: Capability): void {
  const v = checkMethodOverride(headers, query, (m) => methodAllowed(m, cap));
  if (v.ok) return;
  // only a well-known method is echoed: the value could be anything the caller typed (a token)
  const named = v.method !== undefined && KNOWN_METHODS.has(v.method) ? `method ${v.method}` : 'a method';
  throw deny('method_not_allowed', `${v.source} names ${named} that ${cap.id} does not allow (allowed: ${cap.methods.join(' ')})`);
}

export function findTokenFor(
  ctx: PipelineContext,
  headers: IncomingHttpHeaders,
  names: string[],
  query: string,
  params: string[],
  rec: RequestRecord,
  extra: string[] = [],
): FoundToken {
  try {
    const f = findToken(ctx.tokens, headers, names, query, params, extra);
    rec.runId = f.entry.grant.runId;
    return f;
  } catch (e) {
    const runId = (e as { runId?: string }).runId;
    if (runId) rec.runId = runId;
    throw e;
  }
}
