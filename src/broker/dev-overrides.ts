/**
 * Test-only upstream overrides (SPEC §8), read from the launcher's own environment:
 * - AIVAULT_DEV_RESOLVE=host=127.0.0.1:9443,host2=[::1]:9443 — connect to that loopback address
 *   instead of resolving `host`; TLS still verifies the certificate for `host` (SNI = host). Only
 *   loopback targets are accepted (anything else makes the broker refuse to start); only mapped
 *   hosts waive the loopback block.
 * - AIVAULT_DEV_CA_CERT_PATH=ca.pem — an extra CA trusted for upstream TLS, added to Node's
 *   default root store.
 */
import fs from 'node:fs';
import { AivaultError } from '../errors/aivault-error.js';
import { classifyAddress } from '../policy/address.js';
import { normalizeHost } from '../policy/host.js';

export interface DevTarget {
  address: string;
  port: number;
}

export interface DevOverrides {
  resolve: Map<string, DevTarget>;
  /** PEM text of the extra CA, if any. */
  extraCa?: string;
}

export function readDevOverrides(env: NodeJS.ProcessEnv | undefined): DevOverrides {
  const resolve = new Map<string, DevTarget>();
  const raw = env?.AIVAULT_DEV_RESOLVE;
  if (raw) {
    for (const item of raw.split(',')) {
      const entry = item.trim();
      if (!entry) continue;
      const eq = entry.indexOf('=');
      const host = eq > 0 ? normalizeHost(entry.slice(0, eq).trim()) : undefined;
      const target = eq > 0 ? parseTarget(entry.slice(eq + 1).trim()) : undefined;
      if (!host || !target) throw new AivaultError('invalid_request', `AIVAULT_DEV_RESOLVE: cannot parse entry '${entry.slice(0, 80)}'`);
      if (classifyAddress(target.address) !== 'loopback')
        throw new AivaultError('invalid_request', `AIVAULT_DEV_RESOLVE: target for ${host} must be a loopback address`);
      resolve.set(host, target);
    }
  }
  const caPath = env?.AIVAULT_DEV_CA_CERT_PATH;
  let extraCa: string | undefined;
  if (caPath) {
    try {
      extraCa = fs.readFileSync(caPath, 'utf8');
    } catch (e) {
      throw new AivaultError('invalid_request', `AIVAULT_DEV_CA_CERT_PATH: cannot read ${caPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return extraCa === undefined ? { resolve } : { resolve, extraCa };
}

function parseTarget(s: string): DevTarget | undefined {
  let address: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1 || s[close + 1] !== ':') return undefined;
    address = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0) return undefined;
    address = s.slice(0, colon);
    portText = s.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { address, port };
}
