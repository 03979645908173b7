/**
 * OAuth2 access tokens for the broker (SPEC §6 `oauth2`): `refresh_token` and
 * `client_credentials` grants against the credential's token endpoint.
 *
 * - The token URL comes from policy only (the credential's auth spec), must be https on the default
 *   port, and its host must be one of the credential's or its provider's hosts; it is resolved and
 *   SSRF-checked exactly like an upstream (Upstream.resolve) and reached through the same pinned pool.
 * - Access tokens are cached in memory per credential until 60 s before `expires_in` (no expiry
 *   given: 5 minutes). They never leave the broker except in the upstream `authorization` header.
 * - Single flight: concurrent requests that need a token share one refresh.
 * - A rotated refresh token is written back through Catalog.updateSecret, which holds the vault lock
 *   across re-read → token request → atomic write, so concurrent runs (several `aivault exec`) are
 *   serialised and always refresh with the newest token: none is lost. A crash leaves the old or new
 *   record whole (the vault's atomic write).
 * - Public clients (no client secret) send client_id in the form body; confidential clients use
 *   HTTP basic unless the spec says `clientAuth: "body"`.
 * - Errors name the HTTP status and the RFC 6749 `error` code only, never a token or the body.
 */
import type { Catalog, Credential } from '../registry/types.js';
import type { Dispatcher } from 'undici';
import { deny } from './errors.js';
import type { Upstream } from './upstream.js';

export type OAuthSpec = Extract<Credential['auth'], { strategy: 'oauth2' }>;

export interface Cached {
  accessToken: string;
  expiresAt: number;
  /** newest refresh token this broker knows (also when the catalog cannot store it) */
  refreshToken?: string;
}

const EARLY_MS = 60_000;
const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_TOKEN_RESPONSE = 64 * 1024;
const TOKEN_TIMEOUT_MS = 20_000;
const ERROR_CODE = /^[a-z_]{1,40}$/;

export class OAuthTokens {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<Cached>>();
  /** token endpoint requests made (tests and diagnostics) */
  refreshes = 0;

  constructor(
    private readonly catalog: Catalog,
    private readonly upstream: Upstream,
  ) {}

  /**
   * An access token for `cred`. `force`: the upstream refused `stale` (401), so get a new one
   * unless another request already did.
   */
  async accessToken(cred: Credential, fields: Record<string, string>, opts: { force?: boolean; stale?: string } = {}): Promise<string> {
    const hit = this.cache.get(cred.id);
    if (hit && !opts.force && hit.expiresAt - EARLY_MS > Date.now()) return hit.accessToken;
    if (hit && opts.force && opts.stale !== undefined && hit.accessToken !== opts.stale && hit.expiresAt - EARLY_MS > Date.now()) return hit.accessToken;
    let p = this.inflight.get(cred.id);
    if (!p) {
      p = this.refresh(cred, fields, hit?.refreshToken).finally(() => this.inflight.delete(cred.id));
      this.inflight.set(cred.id, p);
    }
    const c = await p;
    return c.accessToken;
  }

  /** Every token value the broker holds for `cred` (for response redaction). */
  tokensOf(credId: string): string[] {
    const c = this.cache.get(credId);
    return c ? [c.accessToken, ...(c.refreshToken ? [c.refreshToken] : [])] : [];
  }

  clear(): void {
    this.cache.clear();
  }

  private async refresh(cred: Credential, fields: Record<string, string>, knownRefresh: string | undefined): Promise<Cached> {
    const spec = cred.auth as OAuthSpec;
    if (spec.grant !== 'refresh_token' && spec.grant !== 'client_credentials') throw deny('policy_violation', 'oauth2 auth is misconfigured (grant)');
    const url = this.tokenUrl(cred, spec);
    if (!fields.clientId) throw deny('policy_violation', 'oauth2 needs a clientId secret');
    let result: Cached | undefined;
    if (spec.grant === 'client_credentials') {
      result = await this.post(url, spec, fields, { grant_type: 'client_credentials' });
    } else if (this.catalog.updateSecret) {
      // Lock, re-read the stored refresh token, refresh with it, store the rotated one, unlock.
      await this.catalog.updateSecret(cred, 'refreshToken', async (current) => {
        result = await this.post(url, spec, fields, { grant_type: 'refresh_token', refresh_token: current });
        return result.refreshToken;
      });
    } else {
      const rt = knownRefresh ?? fields.refreshToken;
      if (!rt) throw deny('policy_violation', 'oauth2 refresh_token grant needs a refreshToken secret');
      result = await this.post(url, spec, fields, { grant_type: 'refresh_token', refresh_token: rt });
      result.refreshToken ??= rt;
    }
    this.cache.set(cred.id, result!);
    return result!;
  }

  private tokenUrl(cred: Credential, spec: OAuthSpec): URL {
    return checkedTokenUrl(spec, [...cred.hosts, ...(this.catalog.getProvider(cred.provider)?.hosts ?? [])]);
  }

  private post(url: URL, spec: OAuthSpec, fields: Record<string, string>, params: Record<string, string>): Promise<Cached> {
    this.refreshes++;
    return tokenRequest(this.upstream, url, spec, fields, params);
  }
}

/** One request to an oauth2 token endpoint (form-encoded, client authentication per spec). */
export async function tokenRequest(upstream: Upstream, url: URL, spec: OAuthSpec, fields: Record<string, string>, params: Record<string, string>): Promise<Cached> {
  const form = new URLSearchParams(params);
  if (spec.scopes && spec.scopes.length > 0) form.set('scope', spec.scopes.join(' '));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const secret = fields.clientSecret;
  if (secret && spec.clientAuth !== 'body') {
    headers.authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(fields.clientId!)}:${encodeURIComponent(secret)}`).toString('base64');
  } else {
    form.set('client_id', fields.clientId!);
    if (secret) form.set('client_secret', secret);
  }
  const target = await upstream.resolve(url.hostname);
  const dispatcher = await upstream.dispatcher(target);
  let res: Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({
      origin: `https://${target.host}`,
      path: url.pathname + url.search,
      method: 'POST',
      headers,
      body: form.toString(),
      headersTimeout: TOKEN_TIMEOUT_MS,
      bodyTimeout: TOKEN_TIMEOUT_MS,
    });
  } catch {
    throw deny('upstream_error', 'the oauth2 token endpoint could not be reached');
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_TOKEN_RESPONSE) {
      res.body.destroy();
      throw deny('upstream_error', 'the oauth2 token endpoint answered with an oversized body');
    }
    chunks.push(c);
  }
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    json = {};
  }
  if (res.statusCode !== 200 || typeof json.access_token !== 'string' || json.access_token === '') {
    const code = typeof json.error === 'string' && ERROR_CODE.test(json.error) ? ` (${json.error})` : '';
    throw deny('upstream_error', `the oauth2 token endpoint refused the ${params.grant_type} grant: status ${res.statusCode}${code}`);
  }
  if (json.token_type !== undefined && String(json.token_type).toLowerCase() !== 'bearer') throw deny('upstream_error', 'the oauth2 token endpoint returned a non-bearer token');
  if (/[\r\n\0]/.test(json.access_token)) throw deny('upstream_error', 'the oauth2 token endpoint returned a malformed token');
  const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in * 1000 : typeof json.expires_in === 'string' && Number(json.expires_in) > 0 ? Number(json.expires_in) * 1000 : DEFAULT_TTL_MS;
  const out: Cached = { accessToken: json.access_token, expiresAt: Date.now() + ttl };
  if (typeof json.refresh_token === 'string' && json.refresh_token !== '' && !/[\r\n\0]/.test(json.refresh_token)) out.refreshToken = json.refresh_token;
  return out;
}

/** The token URL of `spec`, checked: https, default port, no userinfo, host among `allowedHosts`. */
export function checkedTokenUrl(spec: OAuthSpec, allowedHosts: readonly string[]): URL {
  let u: URL;
  try {
    u = new URL(spec.tokenUrl);
  } catch {
    throw deny('policy_violation', 'oauth2 token URL is invalid');
  }
  if (u.protocol !== 'https:' || u.port !== '' || u.username !== '' || u.password !== '') throw deny('policy_violation', 'oauth2 token URL must be https on the default port');
  if (!allowedHosts.includes(u.hostname)) throw deny('host_not_allowed', `oauth2 token endpoint host ${u.hostname} is not one of the credential's hosts`);
  return u;
}
