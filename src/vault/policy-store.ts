/**
 * Per-capability policy (`aivault capability policy set`): limits and response blocklists for any
 * capability, built-in or custom, stored in `$AIVAULT_DIR/policies.json` (atomic writes, under the
 * vault lock). Applied by the catalog on top of the capability's own definition.
 */
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import type { CapabilityLimits } from '../registry/types.js';
import { readJsonIfExists, writeFileAtomic } from './fs-atomic.js';

export interface CapabilityPolicy {
  limits?: CapabilityLimits;
  blockResponseFields?: string[];
}

interface PoliciesFile {
  v: 1;
  policies: Record<string, CapabilityPolicy>;
}

const LIMIT_KEYS = ['ratePerMinute', 'maxRequestBytes', 'maxResponseBytes', 'timeoutMs'] as const;

export function policiesFile(root: string): string {
  return path.join(root, 'policies.json');
}

function valid(p: unknown): p is CapabilityPolicy {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'limits' && k !== 'blockResponseFields') return false;
  if (o.limits !== undefined) {
    if (typeof o.limits !== 'object' || o.limits === null) return false;
    for (const [k, v] of Object.entries(o.limits)) if (!(LIMIT_KEYS as readonly string[]).includes(k) || !Number.isSafeInteger(v) || (v as number) <= 0) return false;
  }
  if (o.blockResponseFields !== undefined && !(Array.isArray(o.blockResponseFields) && o.blockResponseFields.every((s) => typeof s === 'string' && s.length > 0))) return false;
  return true;
}

export function readPolicies(file: string): Record<string, CapabilityPolicy> {
  const x = readJsonIfExists(file) as PoliciesFile | undefined;
  if (x === undefined) return {};
  if (typeof x !== 'object' || x === null || x.v !== 1 || typeof x.policies !== 'object' || x.policies === null || !Object.values(x.policies).every(valid))
    throw new AivaultError('vault_corrupt', `vault file ${file} is corrupt (unexpected structure); secrets are unaffected`, { file });
  return x.policies;
}

export function writePolicies(file: string, policies: Record<string, CapabilityPolicy>): void {
  const sorted: Record<string, CapabilityPolicy> = {};
  for (const k of Object.keys(policies).sort()) sorted[k] = policies[k]!;
  writeFileAtomic(file, JSON.stringify({ v: 1, policies: sorted } satisfies PoliciesFile, null, 2) + '\n');
}
