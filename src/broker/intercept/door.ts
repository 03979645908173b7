/**
 * The broker as an HTTP proxy (SPEC §10, `aivault exec --intercept`): the second door into the same
 * pipeline. It handles
 * - `CONNECT host:port`: the run token must be in Proxy-Authorization (407 token_missing
 *   otherwise). A host of a granted capability (port 443) is intercepted: TLS is terminated with a
 *   leaf the run CA minted for that host (ALPN http/1.1) and every request inside goes through
 *   approveIntercepted → forward, exactly like passthrough; WebSocket upgrades inside go through
 *   the same upgrade relay as passthrough. Other hosts are tunnelled unmodified, or refused with
 *   host_not_allowed under egress deny unless --egress-allow names them.
 * - absolute-form plain-HTTP requests (`GET http://host/...`): for a granted host the request goes
 *   through the pipeline and upstream over HTTPS (never cleartext to the provider); other hosts are
 *   forwarded as plain HTTP (egress allow) or refused (egress deny).
 * Every CONNECT and every request inside gets exactly one audit `request` line.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BROKER_ERROR_STATUS, type BrokerErrorCode } from '../../errors/codes.js';
import { isForbiddenAddress } from '../../policy/address.js';
import { hostMatches, normalizeHost, isWildcardPattern } from '../../policy/host.js';
import type { DevOverrides } from '../dev-overrides.js';
import { deny, sendError, toDenial } from '../errors.js';
import { approveIntercepted, type RequestRecord } from '../pipeline.js';
import type { BrokerCore } from '../serve.js';
import { findToken } from '../token-extract.js';
import type { HostLookup } from '../upstream.js';
import { handleUpgrade, rawError } from '../websocket.js';
import { createRunCa, type RunCa } from './ca.js';

export interface InterceptRunOptions {
  /** Capability ids (or `provider/*`) of the run: their concrete hosts are intercepted. */
  capabilities: string[];
  /** `deny`: hosts outside the grant are refused (host_not_allowed) unless in egressAllow. */
  egress: 'allow' | 'deny';
  /** Hosts (or `*.domain`) reachable through the proxy under egress deny. */
  egressAllow: string[];
  /** CA lifetime (capped at a day). */
  validityMs?: number;
}

interface InterceptRun {
  ca: RunCa;
  hosts: Set<string>;
  egress: 'allow' | 'deny';
  egressAllow: string[];
}

interface ConnState {
  token: string;
  host: string;
}

export interface InterceptDoor {
  addRun(runId: string, opts: InterceptRunOptions): Promise<{ caPem: string; hosts: string[] }>;
  /** for tests: the run's CA */
  runCa(runId: string): RunCa | undefined;
  onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  onProxyRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): void;
}

const PROXY_AUTHENTICATE = { 'proxy-authenticate': 'Basic realm="aivault"' };
const CONNECT_TIMEOUT_MS = 10_000;

/** Concrete hosts of the granted capabilities. */
export function interceptHosts(core: BrokerCore, grant: string[]): string[] {
  const out = new Set<string>();
  for (const g of grant) {
    const caps = g.endsWith('/*') ? core.ctx.catalog.capabilitiesOf(g.slice(0, -2)) : [core.ctx.catalog.getCapability(g)];
    for (const c of caps) for (const h of c?.hosts ?? []) if (!isWildcardPattern(h) && normalizeHost(h)) out.add(normalizeHost(h)!);
  }
  return [...out];
}

function parseAuthority(target: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@\s[\]]+):([0-9]{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const raw = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (net.isIP(raw)) return { host: raw.toLowerCase(), port };
  const host = normalizeHost(raw);
  return host ? { host, port } : undefined;
}

export function createInterceptDoor(core: BrokerCore, dev: DevOverrides, lookup: HostLookup): InterceptDoor {
  const runs = new Map<string, InterceptRun>();
  const conns = new WeakMap<object, ConnState>();
  const sockets = new Set<Duplex>();
  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  // Requests inside intercepted TLS connections: one node:http server that never listens; each
  // terminated connection is handed to it.
  const inner = http.createServer({ keepAlive: true, keepAliveTimeout: core.idleMs, headersTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    const started = performance.now();
    const st = conns.get(req.socket);
    const rec: RequestRecord = { method: req.method ?? 'GET' };
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      req.setTimeout(core.idleMs, () => req.destroy());
      req.once('end', () => req.setTimeout(0));
    }
    void core.serve(req, res, rec, started, async () => {
      if (!st) throw deny('invalid_request', 'unknown intercepted connection');
      return approveIntercepted(core.ctx, req, rec, st);
    });
  });
  inner.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const st = conns.get(req.socket);
    const rec: RequestRecord = { method: req.method ?? 'GET' };
    void handleUpgrade(core, req, socket, head, rec, async () => {
      if (!st) throw deny('invalid_request', 'unknown intercepted connection');
      return approveIntercepted(core.ctx, req, rec, st);
    });
  });
  inner.on('clientError', (_e, socket) => socket.destroy());

  /** Token from Proxy-Authorization; fills rec.runId. Throws token_* denials. */
  const proxyToken = (req: IncomingMessage, rec: RequestRecord): { token: string; run: InterceptRun } => {
    let found;
    try {
      found = findToken(core.ctx.tokens, req.headers, ['proxy-authorization'], '', []);
    } catch (e) {
      const runId = (e as { runId?: string }).runId;
      if (runId) rec.runId = runId;
      throw e;
    }
    rec.runId = found.entry.grant.runId;
    const run = runs.get(found.entry.grant.runId);
    if (!run) throw deny('policy_violation', 'this run was not started with --intercept: the broker is not its proxy');
    return { token: found.token, run };
  };

  const egressAllowed = (run: InterceptRun, host: string): boolean =>
    run.egress === 'allow' || run.egressAllow.some((p) => p === host || (isWildcardPattern(p) && hostMatches(host, p)));

  /** Where a tunnel (or plain-HTTP forward) to a non-intercepted host connects. */
  const resolveOther = async (run: InterceptRun, host: string, port: number): Promise<{ address: string; port: number }> => {
    const mapped = dev.resolve.get(host);
    if (mapped) return mapped;
    const named = run.egressAllow.some((p) => p === host || (isWildcardPattern(p) && hostMatches(host, p)));
    let addrs: Array<{ address: string }>;
    if (net.isIP(host)) addrs = [{ address: host }];
    else {
      try {
        addrs = await lookup(host);
      } catch {
        throw deny('upstream_error', `cannot resolve ${host}`);
      }
    }
    if (addrs.length === 0) throw deny('upstream_error', `cannot resolve ${host}`);
    if (!named && addrs.some((a) => isForbiddenAddress(a.address)))
      throw deny('host_not_allowed', `${host} resolves to a private, loopback or otherwise forbidden address (--egress-allow ${host} permits it)`);
    return { address: addrs[0]!.address, port };
  };

  const statusOf = (code: BrokerErrorCode): number => (code.startsWith('token_') ? 407 : BROKER_ERROR_STATUS[code]);

  const onConnectAsync = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const started = performance.now();
    const rec: RequestRecord = { method: 'CONNECT' };
    track(socket);
    socket.on('error', () => socket.destroy());
    let established = false;
    try {
      if (!core.localPeer(socket as net.Socket)) throw deny('remote_client_rejected', 'the proxy only serves loopback clients');
      if (core.auditFailed()) throw deny('audit_unavailable', 'the audit log cannot be written; the broker refuses requests rather than serve them unaudited');
      const target = parseAuthority(req.url ?? '');
      if (target) rec.host = target.host;
      const { token, run } = proxyToken(req, rec);
      if (!target) throw deny('invalid_request', 'CONNECT needs host:port');
      rec.path = `:${target.port}`;
      if (run.hosts.has(target.host) && target.port === 443) {
        const secureContext = await run.ca.contextFor(target.host);
        if (!secureContext) throw deny('host_not_allowed', `no certificate for ${target.host}`);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        established = true;
        core.audit(rec, 200, undefined, started, 0);
        if (head.length) socket.unshift(head);
        const tls = await import('node:tls');
        const tlsSock: TLSSocket = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
        conns.set(tlsSock, { token, host: target.host });
        tlsSock.on('error', () => tlsSock.destroy());
        track(tlsSock);
        inner.emit('connection', tlsSock);
        return;
      }
      if (!egressAllowed(run, target.host)) throw deny('host_not_allowed', `${target.host} is outside the granted capabilities and egress is denied (--egress-allow ${target.host} permits it)`);
      const to = await resolveOther(run, target.host, target.port);
      await new Promise<void>((resolve, reject) => {
        const up = net.connect({ host: to.address, port: to.port });
        track(up);
        const timer = setTimeout(() => up.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
        up.once('error', (e) => {
          clearTimeout(timer);
          if (!established) reject(deny(/timeout/.test(e.message) ? 'upstream_timeout' : 'upstream_error', `cannot connect to ${target.host}:${target.port}`));
          else socket.destroy();
        });
        up.once('connect', () => {
          clearTimeout(timer);
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          established = true;
          core.audit(rec, 200, undefined, started, 0);
          if (head.length) up.write(head);
          socket.pipe(up).pipe(socket);
          socket.once('close', () => up.destroy());
          up.once('close', () => socket.destroy());
          resolve();
        });
      });
    } catch (e) {
      if (established) {
        socket.destroy();
        return;
      }
      const d = toDenial(e);
      const status = statusOf(d.code);
      rawError(socket, status, d.code, d.message, status === 407 ? PROXY_AUTHENTICATE : {});
      core.audit(rec, status, d.code, started, 0);
    }
  };

  const onProxyRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const rec: RequestRecord = { method: req.method ?? 'GET' };
    let route: { token: string; host: string } | undefined;
    let plain: { run: InterceptRun; host: string; port: number; path: string } | undefined;
    try {
      let url: URL | undefined;
      try {
        url = new URL(req.url ?? '');
      } catch {
        url = undefined;
      }
      const host = url ? (normalizeHost(url.hostname) ?? (net.isIP(url.hostname.replace(/^\[|\]$/g, '')) ? url.hostname.replace(/^\[|\]$/g, '') : undefined)) : undefined;
      if (host) rec.host = host;
      if (url) rec.path = url.pathname.slice(0, 512);
      if (!core.localPeer(req.socket)) throw deny('remote_client_rejected', 'the proxy only serves loopback clients');
      const { token, run } = proxyToken(req, rec);
      if (!url || !host || url.protocol !== 'http:' || url.username || url.password) throw deny('invalid_request', 'a proxy request needs an absolute http:// URL');
      const pathAndQuery = url.pathname + url.search;
      if (run.hosts.has(host)) {
        // a granted host: the same pipeline, and upstream over HTTPS whatever the client asked
        req.url = pathAndQuery;
        route = { token, host };
      } else {
        if (!egressAllowed(run, host)) throw deny('host_not_allowed', `${host} is outside the granted capabilities and egress is denied (--egress-allow ${host} permits it)`);
        plain = { run, host, port: url.port ? Number(url.port) : 80, path: pathAndQuery };
      }
    } catch (e) {
      const d = toDenial(e);
      const status = statusOf(d.code);
      if (status === 407) res.setHeader('proxy-authenticate', PROXY_AUTHENTICATE['proxy-authenticate']);
      res.shouldKeepAlive = false;
      sendError(res, d.code, d.message, status);
      core.audit(rec, status, d.code, started, 0);
      return;
    }
    if (route) {
      const r = route;
      await core.serve(req, res, rec, started, () => approveIntercepted(core.ctx, req, rec, r));
      return;
    }
    if (plain) await forwardPlain(plain, req, res, rec, started);
  };

  /** Plain HTTP to a host outside the grant (egress allowed): forwarded as is, minus proxy headers. */
  const forwardPlain = async (
    p: { run: InterceptRun; host: string; port: number; path: string },
    req: IncomingMessage,
    res: ServerResponse,
    rec: RequestRecord,
    started: number,
  ): Promise<void> => {
    let to: { address: string; port: number };
    try {
      to = await resolveOther(p.run, p.host, p.port);
    } catch (e) {
      const d = toDenial(e);
      sendError(res, d.code, d.message);
      core.audit(rec, BROKER_ERROR_STATUS[d.code], d.code, started, 0);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    const conn = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP.has(k) || conn.has(k)) continue;
      headers[k] = v;
    }
    let bytes = 0;
    let done = false;
    const end = (status: number, code?: BrokerErrorCode): void => {
      if (done) return;
      done = true;
      core.audit(rec, status, code, started, bytes);
    };
    const up = http.request({ host: to.address, port: to.port, method: req.method, path: p.path, headers, agent: false, timeout: core.idleMs }, (ures) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(ures.statusCode ?? 502, out);
      ures.on('data', (b: Buffer) => (bytes += b.length));
      ures.pipe(res);
      ures.on('end', () => end(ures.statusCode ?? 502));
      ures.on('error', () => {
        res.destroy();
        end(ures.statusCode ?? 502, 'upstream_error');
      });
    });
    up.on('timeout', () => up.destroy(new Error('timeout')));
    up.on('error', (e) => {
      const code: BrokerErrorCode = e.message === 'timeout' ? 'upstream_timeout' : 'upstream_error';
      if (!res.headersSent) sendError(res, code, `cannot reach ${p.host}`);
      else res.destroy();
      end(BROKER_ERROR_STATUS[code], code);
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  return {
    async addRun(runId, opts) {
      const hosts = interceptHosts(core, opts.capabilities);
      const ca = await createRunCa({ hosts, ...(opts.validityMs !== undefined ? { validityMs: opts.validityMs } : {}) });
      runs.set(runId, { ca, hosts: new Set(hosts), egress: opts.egress, egressAllow: opts.egressAllow.map((h) => h.toLowerCase()) });
      return { caPem: ca.certPem, hosts };
    },
    runCa: (runId) => runs.get(runId)?.ca,
    onConnect(req, socket, head) {
      void onConnectAsync(req, socket, head);
    },
    onProxyRequest,
    close() {
      runs.clear();
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
