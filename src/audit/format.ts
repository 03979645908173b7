/**
 * One audit line (SPEC §7, §7a): `ts` first, then the event's fields, sanitised. Defence in depth:
 * fields named like secrets are dropped at any depth and `path`/`url` fields lose their query
 * string (and a path-auth secret), whatever the caller passes.
 */
import type { AuditEvent } from './types.js';

/** Field names never written, at any depth (compared case-insensitively). */
const DROPPED_FIELDS = new Set([
  'value',
  'secret',
  'secrets',
  'token',
  'authorization',
  'proxy-authorization',
  'password',
  'passphrase',
  'cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'api_key',
  'kek',
]);
/** Fields whose query string (and fragment) is stripped. */
const URLISH_FIELDS = new Set(['path', 'url']);

/** Removes secret-named fields (any depth) and query strings from path/url fields. */
export function sanitizeAuditValue(v: unknown, key?: string, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof v === 'string') {
    if (key !== undefined && URLISH_FIELDS.has(key)) return stripQuery(v);
    return v;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (Array.isArray(v)) return v.map((x) => sanitizeAuditValue(x, undefined, depth + 1));
  if (v instanceof Error) return v.message.split('\n')[0];
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (DROPPED_FIELDS.has(k.toLowerCase())) continue;
      const s = sanitizeAuditValue(x, k, depth + 1);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return v;
}

function stripQuery(p: string): string {
  const i = p.search(/[?#]/);
  const noQuery = i < 0 ? p : p.slice(0, i);
  // Path-auth secrets (Telegram's /bot<id>:<token>) if an upstream path is ever passed by mistake.
  return noQuery.replace(/\/bot[0-9]+:[A-Za-z0-9_-]+/g, '/bot[REDACTED]');
}

/** One JSON line, `ts` first. Never throws. */
export function formatAuditLine(event: AuditEvent, ts: string): string {
  const clean = sanitizeAuditValue(event) as Record<string, unknown>;
  delete clean.ts;
  try {
    return JSON.stringify({ ts, ...clean }) + '\n';
  } catch {
    return JSON.stringify({ ts, event: typeof event.event === 'string' ? event.event : 'unknown', error: 'unserializable event' }) + '\n';
  }
}
