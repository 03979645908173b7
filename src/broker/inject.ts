/**
 * Auth injection for one approved request (SPEC §6, step 9). The single-secret strategies are
 * pure templates (src/auth/apply.ts); the multi-secret ones need more of the request:
 * - aws-sigv4 signs method, path, sorted query, host/content-type/x-amz-* headers and the body
 *   hash (src/auth/sigv4.ts). A streamed body is buffered (up to the request limit) and hashed,
 *   except for S3, which accepts UNSIGNED-PAYLOAD over TLS, so S3 uploads stay streamed.
 * - hmac signs a canonical input that includes the body hash (src/auth/hmac.ts), so the body is
 *   buffered up to the request limit for hmac credentials only.
 * - mtls adds nothing to the request: the client certificate and key go to the TLS connection
 *   (Upstream.dispatcher with a client identity).
 * - oauth2 sets `authorization: Bearer <access token>` from the broker's token cache
 *   (oauth.ts), which refreshes through the token endpoint when needed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthSpec, Credential } from '../registry/types.js';
import { applyAuth } from '../auth/apply.js';
import { EMPTY_SHA256, UNSIGNED_PAYLOAD, amzDate, awsEncodePath, sha256Hex, signV4 } from '../auth/sigv4.js';
import { hmacHeaders, type HmacSpec } from '../auth/hmac.js';
import { deny } from './errors.js';
import type { OAuthTokens } from './oauth.js';

export type Body = Buffer | IncomingMessage | AsyncIterable<Buffer> | null;

export interface ClientIdentity {
  cert: string;
  key: string;
}

export interface InjectInput {
  host: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Body;
  maxBody: number;
}

export interface Injected {
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Body;
  clientIdentity?: ClientIdentity;
  /** token values to redact from the response besides the credential's secrets (oauth2) */
  extraRedact?: string[];
  /** oauth2: after an upstream 401, force one refresh and return the headers for the single retry */
  reauth?: () => Promise<{ headers: Record<string, string>; extraRedact: string[] }>;
}

/** oauth2 request bodies up to this size are buffered so the one retry after a 401 can replay them. */
export const OAUTH_REPLAY_LIMIT = 1024 * 1024;

/** Read a streamed body into memory, refusing more than `max` bytes. */
export async function bufferBody(body: Body, max: number): Promise<Buffer | null> {
  if (body === null || Buffer.isBuffer(body)) return body;
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) throw deny('body_too_large', 'request body exceeds the limit');
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function sigv4Service(spec: Extract<AuthSpec, { strategy: 'aws-sigv4' }>, host: string): string {
  return spec.serviceByHost?.[host] ?? spec.service;
}

/** Whether this strategy needs the whole body before it can sign. */
export function needsBufferedBody(spec: AuthSpec, host: string): boolean {
  if (spec.strategy === 'hmac') return true;
  if (spec.strategy === 'aws-sigv4') return sigv4Service(spec, host) !== 's3';
  return false;
}

const rendered = new WeakMap<Record<string, string>, WeakMap<AuthSpec, Array<[string, string]>>>();

/**
 * The headers a header-only strategy sets (lower-case names), as applyAuth renders and validates
 * them, memoised per fields object (InjectionCache keeps one per credential while its values are
 * cached) and spec. A template that does not render throws, every time (nothing is kept).
 */
function headerAuth(spec: AuthSpec, fields: Record<string, string>): Array<[string, string]> {
  let bySpec = rendered.get(fields);
  if (!bySpec) rendered.set(fields, (bySpec = new WeakMap()));
  let pairs = bySpec.get(spec);
  if (!pairs) {
    pairs = Object.entries(applyAuth(spec, fields, { path: '/', query: '', headers: {} }).headers);
    bySpec.set(spec, pairs);
  }
  return pairs;
}

export async function injectAuth(cred: Credential, fields: Record<string, string>, r: InjectInput, now = new Date(), oauth?: OAuthTokens): Promise<Injected> {
  const spec = cred.auth;
  switch (spec.strategy) {
    case 'oauth2': {
      if (!oauth) throw deny('policy_violation', 'oauth2 is not available here');
      const token = await oauth.accessToken(cred, fields);
      // Replayable body: none, a buffer, or a declared length within the replay limit.
      let body = r.body;
      let replayable = body === null || Buffer.isBuffer(body);
      if (!replayable && 'headers' in (body as IncomingMessage)) {
        const cl = Number((body as IncomingMessage).headers['content-length']);
        if (Number.isSafeInteger(cl) && cl <= Math.min(OAUTH_REPLAY_LIMIT, r.maxBody)) {
          body = await bufferBody(body, Math.min(OAUTH_REPLAY_LIMIT, r.maxBody));
          replayable = true;
        }
      }
      const headers = { ...r.headers, authorization: `Bearer ${token}` };
      const out: Injected = { path: r.path, query: r.query, headers, body, extraRedact: oauth.tokensOf(cred.id) };
      if (replayable)
        out.reauth = async () => {
          const fresh = await oauth.accessToken(cred, fields, { force: true, stale: token });
          return { headers: { ...r.headers, authorization: `Bearer ${fresh}` }, extraRedact: oauth.tokensOf(cred.id) };
        };
      return out;
    }
    case 'aws-sigv4': {
      if (typeof spec.region !== 'string' || typeof spec.service !== 'string') throw deny('policy_violation', 'aws-sigv4 auth is misconfigured');
      const ak = fields.accessKeyId;
      const sk = fields.secretAccessKey;
      if (!ak || !sk) throw deny('policy_violation', 'aws-sigv4 needs accessKeyId and secretAccessKey secrets');
      const service = sigv4Service(spec, r.host);
      const body = needsBufferedBody(spec, r.host) ? await bufferBody(r.body, r.maxBody) : r.body;
      const payloadHash = body === null ? EMPTY_SHA256 : Buffer.isBuffer(body) ? sha256Hex(body) : UNSIGNED_PAYLOAD;
      const path = awsEncodePath(r.path);
      const headers = { ...r.headers };
      for (const k of ['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) delete headers[k];
      headers.host = r.host;
      headers['x-amz-date'] = amzDate(now);
      headers['x-amz-content-sha256'] = payloadHash;
      if (fields.sessionToken) headers['x-amz-security-token'] = fields.sessionToken;
      const signed: Array<[string, string]> = Object.entries(headers).filter(([k]) => k === 'host' || k === 'content-type' || k === 'content-md5' || k.startsWith('x-amz-'));
      const sig = signV4(
        { method: r.method, path, query: r.query, headers: signed, payloadHash },
        { region: spec.region, service, amzDate: headers['x-amz-date'] },
        { accessKeyId: ak, secretAccessKey: sk },
      );
      headers.authorization = sig.authorization;
      return { path, query: r.query, headers, body };
    }
    case 'hmac': {
      const body = await bufferBody(r.body, r.maxBody);
      const target = r.query ? `${r.path}?${r.query}` : r.path;
      let set: Record<string, string>;
      try {
        set = hmacHeaders(spec as HmacSpec, fields, { method: r.method, target, body, now, nonce: randomBytes(16).toString('hex') });
      } catch (e) {
        throw deny('policy_violation', e instanceof Error ? e.message : 'hmac auth failed');
      }
      return { path: r.path, query: r.query, headers: { ...r.headers, ...set }, body };
    }
    case 'mtls': {
      const cert = fields.cert;
      const key = fields.key;
      if (!cert || !key || !cert.includes('-----BEGIN') || !key.includes('-----BEGIN')) throw deny('policy_violation', 'mtls needs a PEM certificate and key');
      return { path: r.path, query: r.query, headers: r.headers, body: r.body, clientIdentity: { cert, key } };
    }
    default:
      return injectTemplateAuth(cred, fields, r)!;
  }
}

/**
 * The template strategies (header, query, path, basic, multi-header, multi-query, and the fail-closed
 * refusal of unknown ones): nothing to wait for, so no promise. undefined for oauth2, aws-sigv4,
 * hmac and mtls (injectAuth).
 */
export function injectTemplateAuth(cred: Credential, fields: Record<string, string>, r: InjectInput): Injected | undefined {
  const spec = cred.auth;
  const strategy = (spec as { strategy?: unknown }).strategy;
  if (strategy === 'oauth2' || strategy === 'aws-sigv4' || strategy === 'hmac' || strategy === 'mtls') return undefined;
  if (strategy === 'header' || strategy === 'basic' || strategy === 'multi-header') {
    // headers only: rendered once per secret values (the fields object is cached with them). The
    // bag is the broker's own (forwardableRequestHeaders built it for this request): set in place.
    const headers = r.headers;
    for (const [k, v] of headerAuth(spec, fields)) {
      delete headers[k];
      headers[k] = v;
    }
    return { path: r.path, query: r.query, headers, body: r.body };
  }
  const out = applyAuth(spec, fields, { path: r.path, query: r.query, headers: r.headers });
  return { ...out, body: r.body };
}
