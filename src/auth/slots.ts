/**
 * Auth-class slots of a strategy (SPEC §6): headers and query parameters the caller may not set,
 * and where the run token may sit in passthrough mode. Pure.
 */
import type { AuthSpec } from '../registry/types.js';

export type AuthSlots = { headers: string[]; queryParams: string[] };

export function authSlots(spec: AuthSpec, extra?: { headers?: string[]; queryParams?: string[] }): AuthSlots {
  const headers: string[] = [];
  const queryParams: string[] = [];
  const h = (n: unknown): void => {
    if (typeof n === 'string' && n) {
      const l = n.toLowerCase();
      if (!headers.includes(l)) headers.push(l);
    }
  };
  const q = (n: unknown): void => {
    if (typeof n === 'string' && n && !queryParams.includes(n)) queryParams.push(n);
  };
  switch (spec.strategy) {
    case 'header':
      h(spec.header);
      break;
    case 'query':
      q(spec.param);
      break;
    case 'path':
      break;
    case 'basic':
      h('authorization');
      break;
    case 'multi-header':
      for (const k of Object.keys(spec.headers ?? {})) h(k);
      break;
    case 'multi-query':
      for (const k of Object.keys(spec.params ?? {})) q(k);
      break;
    case 'aws-sigv4':
      h('authorization');
      h('x-amz-security-token');
      for (const p of ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'X-Amz-Algorithm']) q(p);
      break;
    case 'hmac':
      h('authorization');
      h(spec.header);
      h(spec.timestampHeader);
      h(spec.nonceHeader);
      for (const k of Object.keys(spec.headers ?? {})) h(k);
      break;
    default:
      // oauth2 / mtls / unknown: they would use authorization (and friends).
      h('authorization');
      break;
  }
  for (const n of extra?.headers ?? []) h(n);
  for (const n of extra?.queryParams ?? []) q(n);
  return { headers, queryParams };
}
