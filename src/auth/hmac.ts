/**
 * HMAC request signing (SPEC §6 `hmac`). Pure: the caller passes the time and the nonce.
 *
 * Canonical input (the default `template`, documented in the README):
 *   {{timestamp}}\n{{method}}\n{{path}}\n{{bodyHash}}
 * where timestamp = Unix seconds at signing, method = upper-case method, path = path and query
 * exactly as sent upstream, bodyHash = hex digest of the body bytes with the same algorithm
 * (of the empty string when there is no body). Other placeholders: {{timestampMs}}, {{nonce}}
 * (128-bit random hex, fresh per request), {{body}} (the body as UTF-8).
 * The signature (hex or base64) is put in `header` through the `value` template ({{signature}},
 * {{timestamp}}, {{nonce}}); the timestamp goes in `timestampHeader` and the nonce in
 * `nonceHeader` when set, so the receiver can recompute the message and reject stale or repeated
 * requests (replay protection is the receiver's check of that timestamp/nonce).
 */
import { createHash, createHmac } from 'node:crypto';
import { AivaultError } from '../errors/aivault-error.js';
import type { AuthSpec } from '../registry/types.js';
import { renderTemplate } from './template.js';

export type HmacSpec = Extract<AuthSpec, { strategy: 'hmac' }>;

export interface HmacInput {
  method: string;
  /** path + ('?' + query) as sent */
  target: string;
  body: Buffer | null;
  now: Date;
  nonce: string;
}

/** Replace {{name}} in a template with request values (no secret field is reachable here). */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new AivaultError('policy_violation', 'hmac template refers to an unknown field');
    return v;
  });
}

export function hmacMessage(spec: HmacSpec, input: HmacInput): string {
  const algo = spec.algorithm === 'sha512' ? 'sha512' : 'sha256';
  const body = input.body ?? Buffer.alloc(0);
  return fill(spec.template, {
    method: input.method.toUpperCase(),
    path: input.target,
    timestamp: String(Math.floor(input.now.getTime() / 1000)),
    timestampMs: String(input.now.getTime()),
    nonce: input.nonce,
    bodyHash: createHash(algo).update(body).digest('hex'),
    body: body.toString('utf8'),
  });
}

/** Headers to set (lower-case names): the signature header, timestamp/nonce headers, extra headers. */
export function hmacHeaders(spec: HmacSpec, fields: Record<string, string>, input: HmacInput): Record<string, string> {
  if (spec.algorithm !== 'sha256' && spec.algorithm !== 'sha512') throw new AivaultError('policy_violation', 'hmac algorithm must be sha256 or sha512');
  if (typeof spec.header !== 'string' || typeof spec.template !== 'string') throw new AivaultError('policy_violation', 'hmac auth is misconfigured');
  const raw = fields[spec.key ?? 'secret'];
  if (typeof raw !== 'string' || raw === '') throw new AivaultError('policy_violation', 'hmac key secret is missing');
  const enc = spec.keyEncoding ?? 'utf8';
  const key = enc === 'utf8' ? Buffer.from(raw, 'utf8') : Buffer.from(raw, enc);
  if (key.length === 0) throw new AivaultError('policy_violation', 'hmac key secret is empty after decoding');
  const mac = createHmac(spec.algorithm, key).update(hmacMessage(spec, input), 'utf8').digest();
  const signature = spec.encoding === 'base64' ? mac.toString('base64') : mac.toString('hex');
  const timestamp = String(Math.floor(input.now.getTime() / 1000));
  const out: Record<string, string> = {};
  for (const [h, t] of Object.entries(spec.headers ?? {})) out[h.toLowerCase()] = renderTemplate(t, fields);
  out[spec.header.toLowerCase()] = fill(spec.value ?? '{{signature}}', { signature, timestamp, nonce: input.nonce });
  if (spec.timestampHeader) out[spec.timestampHeader.toLowerCase()] = timestamp;
  if (spec.nonceHeader) out[spec.nonceHeader.toLowerCase()] = input.nonce;
  return out;
}
