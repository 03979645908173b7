/**
 * The policy pipeline (SPEC §6), in this order: token valid and unexpired → capability exists and
 * is granted → credential resolved → method allowed → path normalised and inside a granted prefix
 * → host from policy (https, default port, pinned secrets only to their provider's hosts, DNS
 * checked) → caller auth-class headers/params refused → reserved/hop-by-hop headers stripped →
 * auth injected. The decisions themselves live in src/policy and src/auth; this file only
 * sequences them and turns their answers into denials.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Catalog, Capability, Credential, ProviderDef } from '../registry/types.js';
import { normalizePath } from '../policy/path.js';
import { splitPathSlot } from '../policy/path-slot.js';
import { checkCapability, coveringCapability, inferCapability, methodAllowed, withApiRoot } from '../policy/capability.js';
import { checkMethodOverride } from '../policy/method-override.js';
import { effectiveHosts, isWildcardPattern, pinnedHostAllowed } from '../policy/host.js';
import { checkCallerHeaders, forwardableRequestHeaders } from '../policy/headers.js';
import { checkCallerQuery, consumeTokenParams, dropParamsCarrying } from '../policy/query.js';
import { injectAuth, type ClientIdentity } from './inject.js';
import type { OAuthTokens } from './oauth.js';
import { authSlots, type AuthSlots } from '../auth/slots.js';
import { deny } from './errors.js';
import { consumeTokenHeaders, findToken, type FoundToken } from './token-extract.js';
import type { TokenTable } from './tokens.js';
import type { Upstream, UpstreamTarget } from './upstream.js';
import type { RateLimiter } from './rate-limit.js';
import { parseEnvelope } from './envelope.js';
import { RedactionSet, StreamRedactor } from './redactor.js';
import type { InjectionCache } from './injections.js';

export { InjectionCache, type Injection } from './injections.js';

/** What the audit line knows so far about a request. */
export interface RequestRecord {
  runId?: string;
  capability?: string;
  credential?: string;
  method: string;
  host?: string;
  path?: string;
}

export interface PipelineContext {
  catalog: Catalog;
  tokens: TokenTable;
  upstream: Upstream;
  limiter: RateLimiter;
  injections: InjectionCache;
  maxRequestBytes: number;
  oauth?: OAuthTokens;
}

/** A request that passed every policy check, ready for forward(). */
export interface Approved {
  target: UpstreamTarget;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | IncomingMessage | AsyncIterable<Buffer> | null;
  redactor: StreamRedactor;
  capability: Capability;
  bodyState: { tooLarge: boolean };
  /** mtls: the client certificate presented on the upstream TLS connection */
  clientIdentity?: ClientIdentity;
  /** oauth2: one forced refresh after an upstream 401; headers and redactor for the single retry */
  reauth?: () => Promise<{ headers: Record<string, string>; redactor: StreamRedactor }>;
}

const BASE_TOKEN_HEADERS = ['authorization', 'x-api-key'];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'PURGE']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function auditPath(raw: string): string {
  const q = raw.indexOf('?');
  return (q === -1 ? raw : raw.slice(0, q)).slice(0, 512);
}

function mergeSlots(a: AuthSlots, b?: AuthSlots): AuthSlots {
  if (!b) return a;
  return {
    headers: [...new Set([...a.headers, ...b.headers])],
    queryParams: [...new Set([...a.queryParams, ...b.queryParams])],
  };
}

function slotsOf(cred: Credential | undefined, prov: ProviderDef | undefined): AuthSlots {
  let s: AuthSlots = { headers: [], queryParams: [] };
  if (prov) s = mergeSlots(s, authSlots(prov.auth, prov.authSlots));
  if (cred) s = mergeSlots(s, authSlots(cred.auth, prov?.authSlots));
  return s;
}

/** Capabilities the grant gives, for one provider (in grant order; `provider/*` expands). */
function grantedOf(catalog: Catalog, grant: string[], provider: string): Capability[] {
  const out: Capability[] = [];
  const seen = new Set<string>();
  for (const g of grant) {
    const caps = g.endsWith('/*') ? (g.slice(0, -2) === provider ? catalog.capabilitiesOf(provider) : []) : [catalog.getCapability(g)];
    for (const c of caps) if (c && c.provider === provider && !seen.has(c.id)) (seen.add(c.id), out.push(c));
  }
  return out;
}

/** "; add --allow X" when an ungranted capability of the provider would cover method + path. */
function allowHint(catalog: Catalog, provider: string, method: string, path: string, granted: Capability[], needMethod = false): string {
  const c = coveringCapability(method, path, catalog.capabilitiesOf(provider));
  if (!c || granted.some((g) => g.id === c.id) || (needMethod && !methodAllowed(method, c))) return '';
  return `; add --allow ${c.id}`;
}

function isGranted(grant: string[], cap: Capability): boolean {
  return grant.some((g) => g === cap.id || (g.endsWith('/*') && g.slice(0, -2) === cap.provider));
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------

export async function approvePassthrough(ctx: PipelineContext, req: IncomingMessage, rec: RequestRecord): Promise<Approved> {
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
  const validName = NAME.test(name);
  const namedCred = validName ? ctx.catalog.getCredential(name) : undefined;
  const provider = namedCred?.provider ?? (validName && ctx.catalog.getProvider(name) ? name : undefined);
  const provDef = provider ? ctx.catalog.getProvider(provider) : undefined;
  const slots = slotsOf(namedCred, provDef);
  const q = rest.indexOf('?');
  const rawQuery = q === -1 ? '' : rest.slice(q + 1);
  // SPEC §7a: a path-auth provider's key slot (/bot<token>/...) may hold the run token
  const pathAuth = namedCred?.auth ?? provDef?.auth;
  const slot = pathAuth?.strategy === 'path' ? splitPathSlot(pathAuth.prefix, rest) : undefined;
  if (slot) rec.path = auditPath(slot.masked);

  // 1. token
  const tokenHeaders = [...new Set([...BASE_TOKEN_HEADERS, ...slots.headers])];
  const found = findTokenFor(ctx, req.headers, tokenHeaders, rawQuery, slots.queryParams, rec, slot ? [slot.value] : []);
  if (slot) {
    // like an auth-class header: the key slot holds the run token (consumed) or is refused
    if (slot.value !== found.token) throw deny('auth_header_rejected', "the path's key slot may only hold the run token");
    rest = slot.rest; // the broker prepends the real prefix
    rec.path = auditPath(rest);
  }
  if (!provider) throw deny('credential_not_found', `no credential or provider named '${validName ? name : '?'}'`);
  if (namedCred) rec.credential = namedCred.id;

  const granted = grantedOf(ctx.catalog, found.entry.grant.capabilities, provider);
  if (granted.length === 0) {
    const n = normalizePath(rest);
    throw deny('capability_not_granted', `the run token grants no capability of provider '${provider}'${n.ok ? allowHint(ctx.catalog, provider, req.method ?? 'GET', n.path, granted) : ''}`);
  }
  return approveRoute(ctx, req, rec, {
    found,
    granted,
    rest,
    tokenHeaders,
    tokenParams: slots.queryParams,
    provider,
    ...(provDef?.apiRoot !== undefined ? { apiRoot: provDef.apiRoot } : {}),
    ...(namedCred ? { namedCred: namedCred.id } : {}),
  });
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
  const granted = grantedForHost(ctx.catalog, looked.entry.grant.capabilities, conn.host);
  if (granted.length === 0) throw deny('capability_not_granted', `the run token grants no capability on ${conn.host}`);
  const found: FoundToken = { token: conn.token, entry: looked.entry };
  const params = [...new Set(granted.flatMap((c) => slotsOf(undefined, ctx.catalog.getProvider(c.provider)).queryParams))];
  return approveRoute(ctx, req, rec, { found, granted, rest: url, tokenHeaders: Object.keys(req.headers), tokenParams: params, provider: granted[0]!.provider, host: conn.host });
}

/** Granted capabilities (any provider) whose concrete hosts include `host`. */
export function grantedForHost(catalog: Catalog, grant: string[], host: string): Capability[] {
  const out: Capability[] = [];
  const seen = new Set<string>();
  for (const g of grant) {
    const caps = g.endsWith('/*') ? catalog.capabilitiesOf(g.slice(0, -2)) : [catalog.getCapability(g)];
    for (const c of caps) if (c && !seen.has(c.id) && c.hosts.some((h) => h.toLowerCase() === host)) (seen.add(c.id), out.push(c));
  }
  return out;
}

interface Route {
  found: FoundToken;
  /** capabilities the request may match (non-empty) */
  granted: Capability[];
  /** path + query as the caller sent it */
  rest: string;
  /** headers where the token may sit (Basic/Bearer decoded there) */
  tokenHeaders: string[];
  /** query parameters where the token may sit */
  tokenParams: string[];
  /** provider named by the route (hints, apiRoot) */
  provider: string;
  /** passthrough: the provider's apiRoot (SDK base URLs with and without /v1) */
  apiRoot?: string;
  namedCred?: string;
  /** the upstream host is fixed (intercepted CONNECT target) */
  host?: string;
}

/** Shared by passthrough and interception: capability inference onwards, one code path. */
async function approveRoute(ctx: PipelineContext, req: IncomingMessage, rec: RequestRecord, r: Route): Promise<Approved> {
  const { found, granted, provider } = r;
  // 2. capability (inferred among those granted), with path normalisation
  const n = normalizePath(r.rest);
  const method = req.method ?? 'GET';
  if (!n.ok) throw deny(n.code, n.reason);
  if (r.apiRoot !== undefined) n.path = withApiRoot(n.path, r.apiRoot, ctx.catalog.capabilitiesOf(provider)); // SDKs with and without /v1 in the base URL
  rec.path = n.path;
  const m = inferCapability(method, n.path, granted);
  if (!m.ok) {
    const hint = allowHint(ctx.catalog, provider, method, n.path, granted, m.code === 'method_not_allowed');
    if (m.code === 'method_not_allowed') throw deny('method_not_allowed', `method ${method} is not allowed for ${n.path}${hint}`);
    throw deny('capability_not_granted', `no granted capability covers ${n.path}${hint}`);
  }
  const cap = m.capability;
  rec.capability = cap.id;
  refuseMethodOverride(req.headers, n.query, cap);

  // 3. credential
  const cred = resolveCredential(ctx.catalog, cap, r.namedCred, found.entry.grant.credential);
  rec.credential = cred.id;

  const headers = consumeTokenHeaders(req.headers, r.tokenHeaders, found.token);
  const credSlots = slotsOf(cred, ctx.catalog.getProvider(cred.provider));
  const query = dropParamsCarrying(
    consumeTokenParams(n.query, [...new Set([...r.tokenParams, ...credSlots.queryParams])], (v) => v === found.token),
    found.token,
  );

  // body
  const maxBody = cap.limits?.maxRequestBytes ?? ctx.maxRequestBytes;
  const bodyState = { tooLarge: false };
  const body = passthroughBody(req, maxBody, bodyState);

  return finish(ctx, rec, {
    cap,
    cred,
    method: method.toUpperCase(),
    path: n.path,
    query,
    headers,
    body,
    bodyState,
    credSlots,
    ...(r.host !== undefined ? { host: r.host } : {}),
  });
}

export async function approveEnvelope(
  ctx: PipelineContext,
  req: IncomingMessage,
  rec: RequestRecord,
  readBody: (limit: number) => Promise<Buffer>,
): Promise<Approved> {
  rec.path = '/aivault/proxy';
  // 1. token
  const found = findTokenFor(ctx, req.headers, BASE_TOKEN_HEADERS, '', [], rec);
  const outer = consumeTokenHeaders(req.headers, BASE_TOKEN_HEADERS, found.token);
  const envLimit = Math.ceil((ctx.maxRequestBytes * 4) / 3) + 1024 * 1024;
  const env = parseEnvelope(await readBody(envLimit), ctx.maxRequestBytes);
  // the envelope method is caller text: only a well-known method is recorded or echoed as is
  const shownMethod = KNOWN_METHODS.has(env.method) ? env.method : '(unlisted method)';
  rec.method = shownMethod;
  rec.path = auditPath(env.path);

  // 2. capability
  const cap = ctx.catalog.getCapability(env.capability);
  if (!cap) throw deny('capability_not_found', `unknown capability '${env.capability.slice(0, 80)}'`);
  rec.capability = cap.id;
  if (!isGranted(found.entry.grant.capabilities, cap)) throw deny('capability_not_granted', `capability '${cap.id}' is not granted to this run; add --allow ${cap.id}`);

  // 3. credential
  const cred = resolveCredential(ctx.catalog, cap, env.credential, found.entry.grant.credential);
  rec.credential = cred.id;

  // 4. method, 5. path
  if (!methodAllowed(env.method, cap)) throw deny('method_not_allowed', `method ${shownMethod} is not allowed by ${cap.id}`);
  const n = normalizePath(env.path);
  if (!n.ok) throw deny(n.code, n.reason);
  rec.path = n.path;
  const cc = checkCapability(env.method, n.path, cap);
  if (!cc.ok) throw deny(cc.code, cc.code === 'path_not_allowed' ? `path ${n.path} is outside ${cap.id}` : `method ${shownMethod} is not allowed by ${cap.id}`);
  refuseMethodOverride(env.headers, n.query, cap);

  // outer auth-class headers must be the token or absent
  const outerCheck = checkCallerHeaders(outer, { headers: [] });
  if (!outerCheck.ok) throw deny('auth_header_rejected', `header '${outerCheck.header}' may not be set by the caller`);

  const credSlots = slotsOf(cred, ctx.catalog.getProvider(cred.provider));
  const maxBody = cap.limits?.maxRequestBytes ?? ctx.maxRequestBytes;
  if (env.body && env.body.length > maxBody) throw deny('body_too_large', 'request body exceeds the limit');
  return finish(ctx, rec, {
    cap,
    cred,
    method: env.method,
    path: n.path,
    query: dropParamsCarrying(n.query, found.token),
    headers: consumeTokenHeaders(env.headers, [], found.token),
    body: env.body ?? null,
    bodyState: { tooLarge: false },
    credSlots,
  });
}

/** A method-override header or `_method` parameter naming a method the capability does not allow. */
function refuseMethodOverride(headers: Record<string, string | string[] | undefined>, query: string, cap: Capability): void {
  const v = checkMethodOverride(headers, query, (m) => methodAllowed(m, cap));
  if (v.ok) return;
  // only a well-known method is echoed: the value could be anything the caller typed (a token)
  const named = v.method !== undefined && KNOWN_METHODS.has(v.method) ? `method ${v.method}` : 'a method';
  throw deny('method_not_allowed', `${v.source} names ${named} that ${cap.id} does not allow (allowed: ${cap.methods.join(' ')})`);
}

function findTokenFor(
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

function resolveCredential(catalog: Catalog, cap: Capability, explicit: string | undefined, pinned: string | undefined): Credential {
  if (explicit !== undefined) {
    const c = catalog.getCredential(explicit);
    if (!c) throw deny('credential_not_found', `unknown credential '${explicit.slice(0, 80)}'`);
    if (pinned !== undefined && pinned !== c.id) throw deny('policy_violation', `this run is bound to credential '${pinned}'`);
    if (c.provider !== cap.provider) throw deny('policy_violation', `credential '${c.id}' does not belong to provider '${cap.provider}'`);
    return c;
  }
  if (pinned !== undefined) {
    const c = catalog.getCredential(pinned);
    if (!c) throw deny('credential_not_found', `unknown credential '${pinned.slice(0, 80)}'`);
    if (c.provider !== cap.provider) throw deny('policy_violation', `credential '${c.id}' does not belong to provider '${cap.provider}'`);
    return c;
  }
  const all = catalog.credentialsFor(cap.provider);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw deny('credential_not_found', `no credential for provider '${cap.provider}' (store its secret first)`);
  throw deny('credential_ambiguous', `provider '${cap.provider}' has ${all.length} credentials; name one (--credential or /v/<credential>/...)`);
}

interface Resolved {
  cap: Capability;
  cred: Credential;
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders | Record<string, string | string[]>;
  body: Buffer | IncomingMessage | AsyncIterable<Buffer> | null;
  bodyState: { tooLarge: boolean };
  credSlots: AuthSlots;
  /** fixed upstream host (interception): must be one the policy allows */
  host?: string;
}

async function finish(ctx: PipelineContext, rec: RequestRecord, r: Resolved): Promise<Approved> {
  // 6. host from policy only
  const hosts = effectiveHosts(r.cred.hosts, r.cap.hosts).filter((h) => !isWildcardPattern(h));
  const host = r.host === undefined ? hosts[0] : hosts.find((h) => h === r.host);
  if (host === undefined) throw deny('host_not_allowed', `no concrete upstream host allowed for ${r.cap.id} with credential '${r.cred.id}'${r.host ? ` on ${r.host}` : ''}`);
  rec.host = host;
  const inj = await ctx.injections.get(ctx.catalog, r.cred);
  for (const p of inj.pinned) {
    const def = ctx.catalog.getProvider(p);
    if (!def || !pinnedHostAllowed(host, def.hosts)) throw deny('host_not_allowed', `a secret of this credential is pinned to provider '${p}' and may not go to ${host}`);
  }
  const target = await ctx.upstream.resolve(host);

  // 7. caller auth-class headers / params
  const hc = checkCallerHeaders(r.headers, { headers: r.credSlots.headers });
  if (!hc.ok) throw deny('auth_header_rejected', `header '${hc.header}' may not be set by the caller`);
  const qc = checkCallerQuery(r.query, r.credSlots.queryParams);
  if (!qc.ok) throw deny('auth_header_rejected', `query parameter '${qc.param.slice(0, 40)}' may not be set by the caller`);

  // 8. strip reserved / hop-by-hop
  const fwd = forwardableRequestHeaders(r.headers, r.credSlots.headers);

  // limits
  const rate = r.cap.limits?.ratePerMinute;
  if (rate !== undefined && !ctx.limiter.take(r.cap.id, rate)) throw deny('rate_limited', `rate limit of ${rate} requests per minute reached for ${r.cap.id}`);
  if (r.body !== null && !Buffer.isBuffer(r.body) && 'headers' in r.body) {
    const cl = (r.body as IncomingMessage).headers['content-length'];
    if (cl !== undefined) fwd['content-length'] = cl;
  }

  // 9. auth
  const maxBody = r.cap.limits?.maxRequestBytes ?? ctx.maxRequestBytes;
  const out = await injectAuth(r.cred, inj.fields, { host, method: r.method, path: r.path, query: r.query, headers: fwd, body: r.body, maxBody }, new Date(), ctx.oauth);
  const redactorWith = (extra: string[] | undefined) => new StreamRedactor(extra && extra.length > 0 ? new RedactionSet([...inj.redaction.strings, ...extra]) : inj.redaction);
  const reauth = out.reauth;
  return {
    target,
    method: r.method,
    path: out.query ? `${out.path}?${out.query}` : out.path,
    headers: out.headers,
    body: out.body,
    redactor: redactorWith(out.extraRedact),
    capability: r.cap,
    bodyState: r.bodyState,
    ...(out.clientIdentity ? { clientIdentity: out.clientIdentity } : {}),
    ...(reauth
      ? {
          reauth: async () => {
            const a = await reauth();
            return { headers: a.headers, redactor: redactorWith(a.extraRedact) };
          },
        }
      : {}),
  };
}

/** The caller's body for passthrough: the request stream itself, size-checked. */
function passthroughBody(req: IncomingMessage, max: number, state: { tooLarge: boolean }): IncomingMessage | AsyncIterable<Buffer> | null {
  const cl = req.headers['content-length'];
  if (cl !== undefined) {
    const n = Number(cl);
    if (!Number.isSafeInteger(n) || n < 0) throw deny('invalid_request', 'bad content-length');
    if (n > max) throw deny('body_too_large', `request body of ${n} bytes exceeds the limit of ${max}`);
    return n === 0 ? null : req;
  }
  if (req.headers['transfer-encoding'] === undefined) return null;
  return limited(req, max, state);
}

async function* limited(req: IncomingMessage, max: number, state: { tooLarge: boolean }): AsyncIterable<Buffer> {
  let seen = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > max) {
      state.tooLarge = true;
      throw deny('body_too_large', 'request body exceeds the limit');
    }
    yield chunk;
  }
}
