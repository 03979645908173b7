/**
 * Outbound proxy settings for the broker's own upstream calls, read from the LAUNCHER's
 * environment (the env given to startBroker; never the child's, never process.env behind its back).
 *
 * - Proxy: `https_proxy`, `HTTPS_PROXY`, then `http_proxy`, `HTTP_PROXY` (upstreams are always https;
 *   like undici's EnvHttpProxyAgent, an http proxy setting also covers https when no https one is
 *   set). `http://` or `https://` proxies; a value without a scheme is taken as `http://` (as curl
 *   does). Credentials in the URL are sent as `Proxy-Authorization: Basic` and never printed.
 * - `no_proxy` / `NO_PROXY` (lower-case wins): comma- or space-separated; `*` = never proxy;
 *   `example.com` or `.example.com` or `*.example.com` = that domain and its subdomains;
 *   `host:port` = only that port; IP literals match exactly. Case-insensitive.
 * Only the decision lives here (pure); src/broker/upstream.ts applies it after the SSRF check.
 */
import { AivaultError } from '../errors/aivault-error.js';

export interface NoProxyRule {
  /** lower-case host or domain, without a leading '.' / '*.' */
  name: string;
  /** undefined: any port */
  port?: number;
}

export interface ProxySettings {
  /** the proxy URL (credentials included; never print it, use `display`) */
  url: string;
  /** scheme://host:port, for messages */
  display: string;
  /** the variable it came from */
  from: string;
  noProxy: NoProxyRule[];
  /** NO_PROXY=* */
  noProxyAll: boolean;
}

const PROXY_VARS = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

export function readProxyEnv(env: NodeJS.ProcessEnv | undefined): ProxySettings | undefined {
  let raw: string | undefined;
  let from = '';
  for (const name of PROXY_VARS) {
    const v = env?.[name]?.trim();
    if (v) {
      raw = v;
      from = name;
      break;
    }
  }
  if (raw === undefined) return undefined;
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new AivaultError('invalid_request', `${from} is not a valid proxy URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new AivaultError('invalid_request', `${from}: unsupported proxy scheme '${u.protocol}' (aivault's broker uses http:// or https:// proxies)`);
  if (!u.hostname) throw new AivaultError('invalid_request', `${from} names no proxy host`);
  const display = `${u.protocol}//${u.host}`;
  const { rules, all } = parseNoProxy(env?.no_proxy ?? env?.NO_PROXY ?? '');
  return { url: u.href, display, from, noProxy: rules, noProxyAll: all };
}

export function parseNoProxy(value: string): { rules: NoProxyRule[]; all: boolean } {
  const rules: NoProxyRule[] = [];
  let all = false;
  for (let entry of value.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') {
      all = true;
      continue;
    }
    let port: number | undefined;
    const bracket = entry.match(/^\[([^\]]+)\](?::(\d+))?$/);
    if (bracket) {
      entry = bracket[1]!;
      if (bracket[2]) port = Number(bracket[2]);
    } else {
      const m = entry.match(/^([^:]+):(\d+)$/);
      if (m) {
        entry = m[1]!;
        port = Number(m[2]);
      }
    }
    entry = entry.replace(/^\*?\./, '');
    if (!entry) continue;
    rules.push(port === undefined ? { name: entry } : { name: entry, port });
  }
  return { rules, all };
}

/** True when a connection to host:port should go through the proxy. */
export function shouldProxy(settings: Pick<ProxySettings, 'noProxy' | 'noProxyAll'>, host: string, port: number): boolean {
  if (settings.noProxyAll) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  for (const r of settings.noProxy) {
    if (r.port !== undefined && r.port !== port) continue;
    if (h === r.name || h.endsWith(`.${r.name}`)) return false;
  }
  return true;
}
