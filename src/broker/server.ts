/**
 * The broker (SPEC §6): a node:http server on 127.0.0.1:<random port>, living inside the launcher
 * process. Every request is checked against the run token's grant by the policy pipeline, sent
 * upstream with the credential injected, and streamed back sanitised and redacted. Exactly one
 * `request` audit event is written per request, allowed or denied.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Catalog } from '../registry/types.js';
import type { AuditEvent, AuditSink } from '../audit/types.js';
import type { BrokerErrorCode } from '../errors/codes.js';
import { BROKER_ERROR_STATUS } from '../errors/codes.js';
import { classifyAddress } from '../policy/address.js';
import { deny, sendError, toDenial } from './errors.js';
import { TokenTable, type TokenGrant } from './tokens.js';
import { DEFAULT_IDLE_MS, openBrokerListener, type BrokerListener } from './listen.js';
import { readDevOverrides } from './dev-overrides.js';
import { Upstream, type HostLookup } from './upstream.js';
import { readProxyEnv } from './proxy-env.js';
import { RateLimiter } from './rate-limit.js';
import { InjectionCache, approveEnvelope, approvePassthrough, type PipelineContext, type RequestRecord } from './pipeline.js';
import { forward, type ForwardPlan } from './forward.js';
import { scrubText } from './scrub.js';
import type { BrokerCore } from './serve.js';
import { handleUpgrade, rawError } from './websocket.js';
import type { InterceptDoor, InterceptRunOptions } from './intercept/door.js';
import { OAuthTokens } from './oauth.js';
import { parseFieldPath } from './json-filter.js';

export type { TokenGrant } from './tokens.js';
export type { InterceptRunOptions } from './intercept/door.js';

export interface BrokerOptions {
  catalog: Catalog;
  audit: AuditSink;
  /** The launcher's environment: AIVAULT_DEV_RESOLVE, AIVAULT_DEV_CA_CERT_PATH (SPEC §8). */
  env?: NodeJS.ProcessEnv;
  /** Request body limit when a capability sets none (default 100 MiB). */
  maxRequestBytes?: number;
  /** Idle timeout for upstream headers/body and caller uploads (default 120 s). */
  idleTimeoutMs?: number;
  /** DNS resolution for upstream hosts (default: the system resolver). Tests use it to simulate
   *  names that resolve to private addresses. Every returned address is checked. */
  lookup?: HostLookup;
  /** Also serve on this unix socket (`--sandbox-net=broker`: the door a relay inside the sandbox
   *  uses). Its peers are the launcher's own sandbox, not network peers; the Host check still applies. */
  unixSocket?: string;
  /** The run this broker serves (exec serves one): request lines carry it even when the request
   *  was refused before a token was found (SPEC §7a). */
  runId?: string;
  /** Doors already listening (exec opens them before spawning the command); default: opened here. */
  listener?: BrokerListener;
  /** The token table, when tokens were minted before the broker started (exec); default: a new one. */
  tokens?: TokenTable;
}

export interface Broker {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  mintToken(grant: TokenGrant): string;
  revokeRun(runId: string): void;
  runStats(runId: string): { requests: number; denied: number };
  /** Make the broker this run's HTTP proxy (SPEC §10): creates the run CA (name-constrained to the
   *  granted hosts) and returns its certificate. Loads the X.509 code on first use only. */
  enableIntercept(runId: string, opts: InterceptRunOptions): Promise<{ caPem: string; hosts: string[] }>;
  onFatal(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 100 * 1024 * 1024;
/** Codes that mean "refused" rather than "tried and the upstream failed". */
const UPSTREAM_CODES = new Set<AuditCode>(['upstream_error', 'upstream_timeout']);
/** `code` of a request line: a broker error code, or client_aborted (the caller went away). */
type AuditCode = BrokerErrorCode | 'client_aborted';

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const dev = readDevOverrides(opts.env);
  const tokens = opts.tokens ?? new TokenTable();
  const upstream = new Upstream(dev, opts.lookup, readProxyEnv(opts.env));
  const injections = new InjectionCache();
  const stats = new Map<string, { requests: number; denied: number }>();
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const ctx: PipelineContext = {
    catalog: opts.catalog,
    tokens,
    upstream,
    limiter: new RateLimiter(),
    injections,
    maxRequestBytes: opts.maxRequestBytes ?? DEFAULT_MAX_BODY,
    oauth: new OAuthTokens(opts.catalog, upstream),
  };
  const listener = opts.listener ?? (await openBrokerListener({ unixSocket: opts.unixSocket, idleTimeoutMs: opts.idleTimeoutMs }));
  const { server, port, unixPeers } = listener;
  const scrub = (text: string): string => scrubText(text, (v) => tokens.knows(v), injections.known);
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const localPeers = new WeakMap<Socket, boolean>();

  /** Requests in flight: each one's "write my line now" (run at close, so none is lost). */
  const open = new Set<() => void>();
  /** Bytes a connection had read before its current request (for requestBytes on keep-alive). */
  const readBefore = new WeakMap<import('node:net').Socket, number>();

  const audit = (rec: RequestRecord, status: number, code: AuditCode | undefined, started: number, bytes: number, extra?: { forwarded: boolean; requestBytes: number }): void => {
    const decision = code === undefined || UPSTREAM_CODES.has(code) || (extra?.forwarded ?? false) ? 'allow' : 'deny';
    // a broker in exec/invoke serves one run: lines refused before a token was found are its too
    const runId = rec.runId ?? opts.runId;
    if (runId !== undefined) {
      let s = stats.get(runId);
      if (!s) stats.set(runId, (s = { requests: 0, denied: 0 }));
      s.requests++;
      if (decision === 'deny') s.denied++;
    }
    try {
      const line: AuditEvent = {
        event: 'request',
        runId,
        capability: rec.capability ?? null,
        credential: rec.credential ?? null,
        method: rec.method,
        host: rec.host ?? null,
        path: rec.path === undefined ? null : scrub(rec.path),
        status,
        decision,
        code: code ?? null,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        bytes,
      };
      if (extra) line.requestBytes = extra.requestBytes;
      opts.audit.append(line);
    } catch {
      // an audit sink failure must not take the request down; the sink reports its own errors
    }
  };

  /** One request through any door: approve (the pipeline), forward, exactly one audit line. */
  const serveRequest: BrokerCore['serve'] = async (req, res, rec, started, approve) => {
    // Exactly one line per request (SPEC §7): the first of "answered" and "cut" writes it. A
    // caller that goes away mid-upload or mid-download is logged as client_aborted with the
    // bytes so far, also when the forward never settles.
    const sock = req.socket;
    const readAtStart = readBefore.get(sock) ?? 0;
    const progress = { bytes: 0 };
    let logged = false;
    let aborted = false;
    let forwarded = false;
    const line = (status: number, code: AuditCode | undefined, bytes: number): void => {
      if (logged) return;
      logged = true;
      open.delete(cut);
      // the caller vanished mid-upload: its body stream failed before the socket's close event
      if (!aborted && req.destroyed && !req.complete && !res.headersSent) aborted = true;
      readBefore.set(sock, sock.bytesRead);
      if (!aborted) return audit(rec, status, code, started, bytes);
      audit(rec, res.headersSent ? res.statusCode : 499, 'client_aborted', started, Math.max(bytes, progress.bytes), {
        forwarded,
        requestBytes: Math.max(0, sock.bytesRead - readAtStart),
      });
    };
    const cut = (): void => {
      aborted = true;
      line(0, undefined, progress.bytes);
    };
    open.add(cut);
    res.once('close', () => {
      if (logged || res.writableFinished) return;
      aborted = true;
      setImmediate(cut); // a forward that is settling gets its turn first
    });
    try {
      if (opts.audit.failure) throw deny('audit_unavailable', 'the audit log cannot be written; the broker refuses requests rather than serve them unaudited');
      const approved = await approve();
      const limits = approved.capability.limits;
      if (aborted) return cut(); // the caller left while the request was being checked: nothing goes upstream
      if (opts.audit.failure) throw deny('audit_unavailable', 'the audit log cannot be written; the broker refuses requests rather than serve them unaudited');
      forwarded = true;
      const plan: ForwardPlan = {
        target: approved.target,
        method: approved.method,
        path: approved.path,
        headers: approved.headers,
        body: approved.body,
        redactor: approved.redactor,
        idleTimeoutMs: idleMs,
        bodyState: approved.bodyState,
        progress,
        retryOn401: approved.reauth !== undefined,
      };
      if (limits?.timeoutMs !== undefined) plan.totalTimeoutMs = limits.timeoutMs;
      if (limits?.maxResponseBytes !== undefined) plan.maxResponseBytes = limits.maxResponseBytes;
      if (approved.clientIdentity) plan.clientIdentity = approved.clientIdentity;
      if (approved.capability.blockResponseFields?.length) plan.blockFields = approved.capability.blockResponseFields.map(parseFieldPath);
      let r = await forward(upstream, plan, res);
      // oauth2: one forced refresh and one retry after an upstream 401, never more
      if (r.retry && approved.reauth) r = await forward(upstream, { ...plan, retryOn401: false, ...(await approved.reauth()) }, res);
      line(r.status, r.code, r.bytes);
    } catch (e) {
      const d = toDenial(e);
      if (!req.complete) res.shouldKeepAlive = false; // do not read a refused body to the end
      sendError(res, d.code, scrub(d.message));
      line(BROKER_ERROR_STATUS[d.code], d.code, 0);
    }
  };

  const core: BrokerCore = {
    ctx,
    idleMs,
    scrub,
    localPeer: (sock) => {
      // a connection's peer does not change: classified once per connection, not per request
      let ok = localPeers.get(sock);
      if (ok === undefined) localPeers.set(sock, (ok = unixPeers.has(sock) || classifyAddress(sock.remoteAddress ?? '') === 'loopback'));
      return ok;
    },
    auditFailed: () => opts.audit.failure !== undefined,
    audit: (rec, status, code, started, bytes) => audit(rec, status, code, started, bytes),
    serve: serveRequest,
  };
  let intercept: InterceptDoor | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const rec: RequestRecord = { method: req.method ?? 'GET' };
    const url = req.url ?? '/';
    // an absolute-form target: the caller uses the broker as its HTTP proxy (exec --intercept)
    if (intercept && isProxyRequest(url)) return intercept.onProxyRequest(req, res);
    await serveRequest(req, res, rec, started, async () => {
      // DNS rebinding / remote peers
      const host = (req.headers.host ?? '').toLowerCase();
      if (!core.localPeer(req.socket) || !allowedHosts.has(host))
        throw deny('remote_client_rejected', 'the broker only serves loopback clients addressing 127.0.0.1 or localhost');
      if (hasBody(req)) {
        req.setTimeout(idleMs, () => req.destroy());
        req.once('end', () => req.setTimeout(0));
      }
      if (url.startsWith('/v/')) return approvePassthrough(ctx, req, rec);
      if (url === '/aivault/proxy' || url.startsWith('/aivault/proxy?')) {
        if (req.method !== 'POST') throw deny('invalid_request', 'the envelope endpoint takes POST');
        return approveEnvelope(ctx, req, rec, (limit) => readBody(req, limit));
      }
      rec.path = url.split('?')[0]!.slice(0, 512);
      throw deny('invalid_request', 'unknown broker endpoint (use /v/<provider>/... or POST /aivault/proxy)');
    });
  };

  const fatal: Array<(err: Error) => void> = [];
  /** a door failed before anyone listened (e.g. while the broker was still loading) */
  let fatalError: Error | undefined;
  let closing = false;
  listener.attach({
    request: (req, res) => {
      handle(req, res).catch((e: unknown) => {
        // handle() catches everything; this is a last resort
        if (!res.headersSent) sendError(res, 'upstream_error', 'internal broker error');
        else res.destroy();
        void e;
      });
    },
    // SPEC §10: CONNECT and WebSocket upgrades (the intercept door is loaded by enableIntercept only)
    connect: (req, socket, head) => {
      if (intercept) return intercept.onConnect(req, socket, head);
      socket.on('error', () => socket.destroy());
      rawError(socket, 400, 'invalid_request', 'the broker is not an HTTP proxy for this run (aivault exec --intercept)');
      audit({ method: 'CONNECT' }, 400, 'invalid_request', performance.now(), 0);
    },
    upgrade: (req, socket, head) => {
      const rec: RequestRecord = { method: req.method ?? 'GET' };
      const url = req.url ?? '/';
      const host = (req.headers.host ?? '').toLowerCase();
      void handleUpgrade(core, req, socket, head, rec, async () => {
        if (opts.audit.failure) throw deny('audit_unavailable', 'the audit log cannot be written; the broker refuses requests rather than serve them unaudited');
        if (!core.localPeer(req.socket) || !allowedHosts.has(host))
          throw deny('remote_client_rejected', 'the broker only serves loopback clients addressing 127.0.0.1 or localhost');
        if (!url.startsWith('/v/')) throw deny('invalid_request', 'WebSocket upgrades are served on /v/<provider>/...');
        return approvePassthrough(ctx, req, rec);
      });
    },
    fatal: (e) => {
      if (closing) return;
      fatalError ??= e;
      for (const cb of fatal) cb(e);
    },
  });

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    mintToken: (grant) => tokens.mint(grant),
    revokeRun: (runId) => tokens.revokeRun(runId),
    runStats: (runId) => ({ ...(stats.get(runId) ?? { requests: 0, denied: 0 }) }),
    enableIntercept: async (runId, o) => {
      if (!intercept) {
        const { createInterceptDoor } = await import('./intercept/door.js');
        intercept ??= createInterceptDoor(core, dev, upstream.lookupHost);
      }
      return intercept.addRun(runId, o);
    },
    onFatal: (cb) => {
      fatal.push(cb);
      if (fatalError && !closing) cb(fatalError);
    },
    close: async () => {
      if (closing) return;
      closing = true;
      tokens.revokeAll();
      injections.clear();
      intercept?.close();
      ctx.oauth?.clear();
      const closed = new Promise<void>((resolve) => listener.close(resolve));
      server.closeIdleConnections();
      // in-flight responses get a moment to finish, then everything goes
      const t = setTimeout(() => server.closeAllConnections(), 1_000);
      t.unref();
      await closed;
      clearTimeout(t);
      // requests still open when the run ends are cut: their lines are written before run.ended
      for (const c of [...open]) c();
      await upstream.close();
    },
  };
}

/** An absolute-form request target: the caller uses the broker as a plain-HTTP proxy. */
function isProxyRequest(url: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url);
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cl = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(cl) && cl > limit) {
      reject(deny('body_too_large', 'request body exceeds the limit'));
      return;
    }
    const parts: Buffer[] = [];
    let n = 0;
    const onData = (b: Buffer): void => {
      n += b.length;
      if (n > limit) {
        cleanup();
        req.pause();
        reject(deny('body_too_large', 'request body exceeds the limit'));
        return;
      }
      parts.push(b);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(parts));
    };
    const onError = (): void => {
      cleanup();
      reject(deny('invalid_request', 'the request body could not be read'));
    };
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
