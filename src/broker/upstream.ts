/**
 * Upstream connections. undici is loaded lazily on the first upstream request, so starting the
 * broker costs only node:http (startup time of `aivault exec`).
 *
 * Host resolution and SSRF (SPEC §6): the host comes from policy only; it is resolved here, the
 * request is refused if ANY resolved address is forbidden (private, loopback, link-local,
 * metadata, ...), and the connection goes to exactly the address that was checked: each pool is
 * bound to one (host, address, port) and its connector dials that address with SNI and certificate
 * verification for the host name — undici never resolves the name again.
 * Dev overrides (SPEC §8) replace resolution for mapped hosts only.
 *
 * Outbound proxy (src/broker/proxy-env.ts, from the launcher's HTTPS_PROXY/HTTP_PROXY/NO_PROXY): the
 * host is still resolved and checked here first (a forbidden address is refused before the proxy
 * hears of it); then, unless NO_PROXY exempts it, the connection is a CONNECT tunnel through the
 * proxy to `host:443` (by name, as proxies' ACLs expect), with TLS to the upstream verified for the
 * host end to end (the proxy sees only ciphertext). Hosts mapped by AIVAULT_DEV_RESOLVE always
 * connect directly to their loopback target. The proxy's own address is the user's choice and is
 * not checked.
 */
import dns from 'node:dns';
import { createHash } from 'node:crypto';
import type { Dispatcher, buildConnector } from 'undici';
import { isForbiddenAddress } from '../policy/address.js';
import { deny } from './errors.js';
import type { DevOverrides } from './dev-overrides.js';
import { shouldProxy, type ProxySettings } from './proxy-env.js';

export interface UpstreamTarget {
  host: string;
  address: string;
  port: number;
}

type Undici = typeof import('undici');

/** DNS resolution used for upstream hosts: every address the name resolves to. */
export type HostLookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

/** Resolved addresses are cached briefly; the cached address is the checked one. */
const DNS_TTL_MS = 30_000;
/** Timeouts and limits every upstream dispatcher (direct pool or outbound proxy agent) uses. */
const POOL_OPTIONS = { keepAliveTimeout: 10_000, headersTimeout: 120_000, bodyTimeout: 120_000, maxResponseSize: -1 } as const;

/** undici is CommonJS: a bundler may hand its exports over as the namespace's `default`. */
async function loadUndici(): Promise<Undici> {
  const m = (await import('undici')) as Undici & { default?: Undici };
  return typeof m.Pool === 'function' ? m : (m.default as Undici);
}

export class Upstream {
  private undici: Promise<Undici> | undefined;
  private readonly pools = new Map<string, Dispatcher>();
  private readonly dnsCache = new Map<string, { target: UpstreamTarget; expires: number }>();
  /** AIVAULT_DEV_RESOLVE targets, one object per host (so byTarget finds its pool) */
  private readonly mappedTargets = new Map<string, UpstreamTarget>();
  /** the pool of each checked target object (targets are cached, so this skips building the pool key) */
  private readonly byTarget = new WeakMap<UpstreamTarget, Dispatcher>();
  /** one TLS context for every upstream connection (building one per connection is costly) */
  private secureContext: import('node:tls').SecureContext | undefined;
  private closed = false;

  constructor(
    private readonly dev: DevOverrides,
    private readonly lookup: HostLookup = (h) => dns.promises.lookup(h, { all: true, verbatim: true }),
    private readonly proxy?: ProxySettings,
  ) {}

  /** True when requests to this checked target go through the configured proxy. */
  viaProxy(target: UpstreamTarget): boolean {
    return this.proxy !== undefined && !this.dev.resolve.has(target.host) && shouldProxy(this.proxy, target.host, target.port);
  }

  /** The resolver in use (the proxy's tunnels resolve with it too). */
  get lookupHost(): HostLookup {
    return this.lookup;
  }

  /** The checked target of `host` when it is known without waiting (a dev mapping or a fresh DNS answer). */
  resolvedNow(host: string): UpstreamTarget | undefined {
    const mapped = this.mapped(host);
    if (mapped) return mapped;
    const hit = this.dnsCache.get(host);
    return hit && hit.expires > Date.now() ? hit.target : undefined;
  }

  private mapped(host: string): UpstreamTarget | undefined {
    let t = this.mappedTargets.get(host);
    if (t === undefined) {
      const m = this.dev.resolve.get(host);
      if (!m) return undefined;
      this.mappedTargets.set(host, (t = { host, address: m.address, port: m.port }));
    }
    return t;
  }

  /** Resolve and check `host`; throws BrokerDenial host_not_allowed / upstream_error. */
  async resolve(host: string): Promise<UpstreamTarget> {
    const mapped = this.mapped(host);
    if (mapped) return mapped;
    const now = Date.now();
    const hit = this.dnsCache.get(host);
    if (hit && hit.expires > now) return hit.target;
    let addrs: Array<{ address: string; family: number }>;
    try {
      addrs = await this.lookup(host);
    } catch {
      throw deny('upstream_error', `cannot resolve upstream host ${host}`);
    }
    if (addrs.length === 0) throw deny('upstream_error', `cannot resolve upstream host ${host}`);
    for (const a of addrs) {
      if (isForbiddenAddress(a.address))
        throw deny('host_not_allowed', `upstream host ${host} resolves to a private, loopback or otherwise forbidden address`);
    }
    const target = { host, address: addrs[0]!.address, port: 443 };
    this.dnsCache.set(host, { target, expires: now + DNS_TTL_MS });
    return target;
  }

  /** dispatcher() without waiting, when that target's pool (no client identity) exists already. */
  dispatcherNow(target: UpstreamTarget, client?: { cert: string; key: string }): Dispatcher | undefined {
    return client || this.closed ? undefined : this.byTarget.get(target);
  }

  /** The pool for exactly this checked target (and client identity, for mtls: one pool per certificate). */
  async dispatcher(target: UpstreamTarget, client?: { cert: string; key: string }): Promise<Dispatcher> {
    const d = await this.dispatcherFor(target, client);
    if (!client && !this.closed) this.byTarget.set(target, d);
    return d;
  }

  private async dispatcherFor(target: UpstreamTarget, client?: { cert: string; key: string }): Promise<Dispatcher> {
    const id = client ? createHash('sha256').update(client.cert).update('\0').update(client.key).digest('hex') : '';
    const proxied = this.viaProxy(target);
    const key = `${proxied ? 'proxy' : target.address}\0${target.host}\0${target.port}\0${id}`;
    const have = this.pools.get(key);
    if (have) return have;
    if (this.closed) throw deny('upstream_error', 'the broker is shutting down');
    const undici = await (this.undici ??= loadUndici());
    const again = this.pools.get(key);
    if (again) return again;
    const tls = await import('node:tls');
    this.secureContext ??= tls.createSecureContext(this.dev.extraCa !== undefined ? { ca: [...tls.rootCertificates, this.dev.extraCa] } : {});
    // A client certificate needs its own TLS context (the shared one carries no identity).
    let secureContext = this.secureContext;
    if (client) {
      try {
        secureContext = tls.createSecureContext({ ...(this.dev.extraCa !== undefined ? { ca: [...tls.rootCertificates, this.dev.extraCa] } : {}), cert: client.cert, key: client.key });
      } catch {
        throw deny('policy_violation', 'the mtls client certificate or key is not valid PEM, or they do not match');
      }
    }
    if (proxied) {
      const agent = new undici.ProxyAgent({
        uri: this.proxy!.url,
        requestTls: { servername: target.host, secureContext, rejectUnauthorized: true, timeout: 10_000 },
        ...POOL_OPTIONS,
      });
      this.pools.set(key, agent);
      return agent;
    }
    const base = undici.buildConnector({
      secureContext,
      rejectUnauthorized: true,
      timeout: 10_000,
    });
    const connect: buildConnector.connector = (opts, cb) =>
      base({ ...opts, hostname: target.address, host: target.host, port: String(target.port), servername: target.host, protocol: 'https:' }, cb);
    const pool = new undici.Pool(`https://${target.host}`, {
      connect,
      ...POOL_OPTIONS,
    });
    this.pools.set(key, pool);
    return pool;
  }

  /** TLS options for a raw connection to exactly this checked target (WebSocket relays). */
  async tlsOptions(target: UpstreamTarget): Promise<import('node:tls').ConnectionOptions> {
    const tls = await import('node:tls');
    this.secureContext ??= tls.createSecureContext(this.dev.extraCa !== undefined ? { ca: [...tls.rootCertificates, this.dev.extraCa] } : {});
    return { host: target.address, port: target.port, servername: target.host, secureContext: this.secureContext, rejectUnauthorized: true, ALPNProtocols: ['http/1.1'] };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
