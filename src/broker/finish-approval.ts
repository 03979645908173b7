/**
 * The pipeline's common tail (steps 6-9): host from policy only, caller auth-class headers and
 * parameters refused, reserved/hop-by-hop headers stripped, rate limit, auth injected.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Capability, Credential } from '../registry/types.js';
import { effectiveHosts, isWildcardPattern, pinnedHostAllowed } from '../policy/host.js';
import { checkCallerHeaders, forwardableRequestHeaders } from '../policy/headers.js';
import { checkCallerQuery } from '../policy/query.js';
import type { AuthSlots } from '../auth/slots.js';
import { injectAuth, injectTemplateAuth, type Injected } from './inject.js';
import type { Injection } from './injections.js';
import type { UpstreamTarget } from './upstream.js';
import { deny } from './errors.js';
import { RedactionSet, StreamRedactor } from './redactor.js';
import type { Approved, PipelineContext, RequestRecord } from './pipeline-types.js';

export interface Resolved {
  cap: Capability;
  cred: Credential;
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders | Record<string, string | string[]>;
  body: Buffer | IncomingMessage | AsyncIterable<Buffer> | null;
  bodyState: { tooLarge: boolean };
  credSlots: AuthSlots;
  /** effectiveHosts(cred, cap) without wildcards, when the caller has it already (route-plans.ts) */
  hosts?: string[];
  /** fixed upstream host (interception): must be one the policy allows */
  host?: string;
}

/**
 * Steps 6-9. Returns the approval itself when nothing needs waiting for (the credential's secrets
 * are cached, the host's address is known, the auth strategy is a template): no promise, no
 * microtask per step on the hot path; otherwise a promise. Refusals throw (synchronously or as a
 * rejection), in the same order either way.
 */
export function finish(ctx: PipelineContext, rec: RequestRecord, r: Resolved): Approved | Promise<Approved> {
  // 6. host from policy only
  const hosts = r.hosts ?? effectiveHosts(r.cred.hosts, r.cap.hosts).filter((h) => !isWildcardPattern(h));
  const host = r.host === undefined ? hosts[0] : hosts.find((h) => h === r.host);
  if (host === undefined) throw deny('host_not_allowed', `no concrete upstream host allowed for ${r.cap.id} with credential '${r.cred.id}'${r.host ? ` on ${r.host}` : ''}`);
  rec.host = host;
  const inj = ctx.injections.peek(r.cred);
  if (inj === undefined) return ctx.injections.get(ctx.catalog, r.cred).then((i) => withInjection(ctx, r, host, i));
  return withInjection(ctx, r, host, inj);
}

function withInjection(ctx: PipelineContext, r: Resolved, host: string, inj: Injection): Approved | Promise<Approved> {
  for (const p of inj.pinned) {
    const def = ctx.catalog.getProvider(p);
    if (!def || !pinnedHostAllowed(host, def.hosts)) throw deny('host_not_allowed', `a secret of this credential is pinned to provider '${p}' and may not go to ${host}`);
  }
  const target = ctx.upstream.resolvedNow(host);
  if (target === undefined) return ctx.upstream.resolve(host).then((t) => withTarget(ctx, r, host, inj, t));
  return withTarget(ctx, r, host, inj, target);
}

function withTarget(ctx: PipelineContext, r: Resolved, host: string, inj: Injection, target: UpstreamTarget): Approved | Promise<Approved> {
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
  const input = { host, method: r.method, path: r.path, query: r.query, headers: fwd, body: r.body, maxBody };
  const now = injectTemplateAuth(r.cred, inj.fields, input);
  if (now !== undefined) return approved(r, inj, target, now);
  return injectAuth(r.cred, inj.fields, input, new Date(), ctx.oauth).then((out) => approved(r, inj, target, out));
}

function redactorWith(inj: Injection, extra: string[] | undefined): StreamRedactor {
  return new StreamRedactor(extra && extra.length > 0 ? new RedactionSet([...inj.redaction.strings, ...extra]) : inj.redaction);
}

function approved(r: Resolved, inj: Injection, target: UpstreamTarget, out: Injected): Approved {
  const reauth = out.reauth;
  const a: Approved = {
    target,
    method: r.method,
    path: out.query ? `${out.path}?${out.query}` : out.path,
    headers: out.headers,
    body: out.body,
    redactor: redactorWith(inj, out.extraRedact),
    capability: r.cap,
    bodyState: r.bodyState,
  };
  if (out.clientIdentity) a.clientIdentity = out.clientIdentity;
  if (reauth)
    a.reauth = async () => {
      const x = await reauth();
      return { headers: x.headers, redactor: redactorWith(inj, x.extraRedact) };
    };
  return a;
}
