/**
 * The policy pipeline (SPEC §6), in this order: token valid and unexpired → capability exists and
 * is granted → credential resolved → method allowed → path normalised and inside a granted prefix
 * → host from policy (https, default port, pinned secrets only to their provider's hosts, DNS
 * checked) → caller auth-class headers/params refused → reserved/hop-by-hop headers stripped →
 * auth injected. The decisions themselves live in src/policy and src/auth; this file only
 * sequences them and turns their answers into denials. It holds the passthrough and interception
 * doors; the envelope door, grant and credential resolution, body limits and the common tail
 * (finish-approval.ts) sit beside it.
 */
import type { IncomingMessage } from 'node:http';
import type { Capability } from '../registry/types.js';
import { normalizePath } from '../policy/path.js';
import { splitPathSlot } from '../policy/path-slot.js';
import { withApiRootCompiled, type CapabilityMatcher } from '../policy/capability.js';
import { consumeTokenParams, dropParamsCarrying } from '../policy/query.js';
import { deny } from './errors.js';
import { consumeTokenHeaders, type FoundToken } from './token-extract.js';
import { allowHint } from './grants.js';
import { slotsOf } from './credential-resolve.js';
import { RoutePlans, type GrantPlan } from './route-plans.js';
import { passthroughBody } from './request-body.js';
import { auditPath, findTokenFor, refuseMethodOverride } from './request-checks.js';
import { finish, type Resolved } from './finish-approval.js';
import type { Approved, PipelineContext, RequestRecord } from './pipeline-types.js';

export { InjectionCache, type Injection } from './injections.js';
export type { Approved, PipelineContext, RequestRecord } from './pipeline-types.js';
export { approveEnvelope } from './approve-envelope.js';
export { grantedForHost } from './grants.js';

export function approvePassthrough(ctx: PipelineContext, req: IncomingMessage, rec: RequestRecord): Approved | Promise<Approved> {
  const url = req.url ?? '/';
  const after = url.slice('/v/'.length);
  let end = after.length;
  for (let i = 0; i < after.length; i++) {
    const c = after.charCodeAt(i);
    if (c === 0x2f || c === 0x3f) {
      end = i;
      break;
    }
  }
  const name = after.slice(0, end);
  let rest = after.slice(end);
  if (rest === '' || rest.startsWith('?')) rest = '/' + rest;
  rec.path = auditPath(rest);
  const plan = plansOf(ctx).name(name);
  const { provider, namedCred, slots } = plan;
  const q = rest.indexOf('?');
  const rawQuery = q === -1 ? '' : rest.slice(q + 1);
  // SPEC §7a: a path-auth provider's key slot (/bot<token>/...) may hold the run token
  const slot = plan.pathAuthPrefix !== undefined ? splitPathSlot(plan.pathAuthPrefix, rest) : undefined;
  if (slot) rec.path = auditPath(slot.masked);

  // 1. token
  const found = findTokenFor(ctx, req.headers, plan.tokenHeaders, rawQuery, slots.queryParams, rec, slot ? [slot.value] : NO_VALUES);
  if (slot) {
    // like an auth-class header: the key slot holds the run token (consumed) or is refused
    if (slot.value !== found.token) throw deny('auth_header_rejected', "the path's key slot may only hold the run token");
    rest = slot.rest; // the broker prepends the real prefix
    rec.path = auditPath(rest);
  }
  if (!provider) throw deny('credential_not_found', `no credential or provider named '${plan.valid ? name : '?'}'`);
  if (namedCred) rec.credential = namedCred.id;

  const grants = plansOf(ctx).forProvider(found.entry.grant, provider);
  if (grants.granted.length === 0) {
    const n = normalizePath(rest);
    throw deny('capability_not_granted', `the run token grants no capability of provider '${provider}'${n.ok ? allowHint(ctx.catalog, provider, req.method ?? 'GET', n.path, grants.granted) : ''}`);
  }
  const route: Route = { found, grants, rest, tokenHeaders: plan.tokenHeaders, tokenParams: slots.queryParams, provider };
  if (plan.apiRoot !== undefined) {
    route.apiRoot = plan.apiRoot;
    route.providerCaps = plan.providerCaps!;
  }
  if (namedCred) route.namedCred = namedCred.id;
  return approveRoute(ctx, req, rec, route);
}

/**
 * A request inside an intercepted TLS connection (SPEC §10): the run token came with the CONNECT,
 * the upstream host is the CONNECT target, the path is the inner request's (the real API path: no
 * apiRoot mapping). From here on it is the passthrough pipeline (approveRoute): capability inferred
 * among the granted capabilities that reach `host`. The token (or its placeholder form) is
 * consumed wherever the client put it: any header (Bearer, Basic user or password, `token <x>`,
 * custom) and any query parameter.
 */
export async function approveIntercepted(
  ctx: PipelineContext,
  req: IncomingMessage,
  rec: RequestRecord,
  conn: { token: string; host: string },
): Promise<Approved> {
  const url = req.url ?? '/';
  rec.host = conn.host;
  rec.path = auditPath(url);
  const looked = ctx.tokens.lookup(conn.token);
  if (!looked.ok) {
    if (looked.runId !== undefined) rec.runId = looked.runId;
    throw deny(looked.code, looked.code === 'token_expired' ? 'the run token has expired or its run has ended' : 'the run token is not valid');
  }
  rec.runId = looked.entry.grant.runId;
  if (!url.startsWith('/')) throw deny('invalid_request', 'an intercepted request must use origin-form (a path starting with /)');
  const grants = plansOf(ctx).forHost(looked.entry.grant, conn.host);
  const granted = grants.granted;
  if (granted.length === 0) throw deny('capability_not_granted', `the run token grants no capability on ${conn.host}`);
  const found: FoundToken = { token: conn.token, entry: looked.entry };
  const params = [...new Set(granted.flatMap((c) => slotsOf(undefined, ctx.catalog.getProvider(c.provider)).queryParams))];
  return approveRoute(ctx, req, rec, { found, grants, rest: url, tokenHeaders: Object.keys(req.headers), tokenParams: params, provider: granted[0]!.provider, host: conn.host });
}

const NO_VALUES: string[] = [];

function plansOf(ctx: PipelineContext): RoutePlans {
  return (ctx.plans ??= new RoutePlans(ctx.catalog));
}

interface Route {
  found: FoundToken;
  /** capabilities the request may match (non-empty), compiled */
  grants: GrantPlan;
  /** path + query as the caller sent it */
  rest: string;
  /** headers where the token may sit (Basic/Bearer decoded there) */
  tokenHeaders: string[];
  /** query parameters where the token may sit */
  tokenParams: string[];
  /** provider named by the route (hints, apiRoot) */
  provider: string;
  /** passthrough: the provider's apiRoot (SDK base URLs with and without /v1) and its capabilities */
  apiRoot?: string;
  providerCaps?: CapabilityMatcher;
  namedCred?: string;
  /** the upstream host is fixed (intercepted CONNECT target) */
  host?: string;
}

/** Shared by passthrough and interception: capability inference onwards, one code path. */
function approveRoute(ctx: PipelineContext, req: IncomingMessage, rec: RequestRecord, r: Route): Approved | Promise<Approved> {
  const { found, grants, provider } = r;
  // 2. capability (inferred among those granted), with path normalisation
  const n = normalizePath(r.rest);
  const method = req.method ?? 'GET';
  if (!n.ok) throw deny(n.code, n.reason);
  if (r.apiRoot !== undefined) n.path = withApiRootCompiled(n.path, r.apiRoot, r.providerCaps!); // SDKs with and without /v1 in the base URL
  rec.path = n.path;
  const m = grants.matcher.infer(method, n.path);
  if (!m.ok) {
    const hint = allowHint(ctx.catalog, provider, method, n.path, grants.granted, m.code === 'method_not_allowed');
    if (m.code === 'method_not_allowed') throw deny('method_not_allowed', `method ${method} is not allowed for ${n.path}${hint}`);
    throw deny('capability_not_granted', `no granted capability covers ${n.path}${hint}`);
  }
  const cap = m.capability;
  rec.capability = cap.id;
  refuseMethodOverride(req.headers, n.query, cap);

  // 3. credential
  const cp = plansOf(ctx).credential(grants, found.entry.grant, cap, r.namedCred);
  const cred = cp.cred;
  rec.credential = cred.id;

  const headers = consumeTokenHeaders(req.headers, r.tokenHeaders, found.token);
  const credSlots = cp.slots;
  // (an empty query stays empty: both filters below are skipped)
  const query =
    n.query === ''
      ? ''
      : dropParamsCarrying(
          consumeTokenParams(n.query, credSlots.queryParams.length === 0 ? r.tokenParams : [...new Set([...r.tokenParams, ...credSlots.queryParams])], (v) => v === found.token),
          found.token,
        );

  // body
  const maxBody = cap.limits?.maxRequestBytes ?? ctx.maxRequestBytes;
  const bodyState = { tooLarge: false };
  const body = passthroughBody(req, maxBody, bodyState);

  const resolved: Resolved = { cap, cred, method: method.toUpperCase(), path: n.path, query, headers, body, bodyState, credSlots, hosts: cp.hosts };
  if (r.host !== undefined) resolved.host = r.host;
  return finish(ctx, rec, resolved);
}
