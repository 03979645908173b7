/**
 * `--sandbox` options (SPEC §9) as given, and their meaning. Any --sandbox-* flag implies
 * --sandbox; --no-sandbox switches off a profile's or aivault.config.json's "sandbox" and cannot be
 * combined with --sandbox flags on the same command line.
 */
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import type { SandboxOptions } from '../sandbox/launch.js';

export type { SandboxOptions } from '../sandbox/launch.js';

export interface RawSandboxArgs {
  sandbox?: boolean;
  noSandbox?: boolean;
  net?: string;
  hide?: string[];
  show?: string[];
  readonly?: boolean;
  write?: string[];
}

export function resolveSandbox(raw: RawSandboxArgs, configured: boolean | 'broker' | undefined, cwd: string): SandboxOptions | undefined {
  const flagged =
    raw.sandbox === true ||
    raw.net !== undefined ||
    (raw.hide?.length ?? 0) > 0 ||
    (raw.show?.length ?? 0) > 0 ||
    raw.readonly === true ||
    (raw.write?.length ?? 0) > 0;
  if (raw.noSandbox) {
    if (flagged) throw new AivaultError('usage', '--no-sandbox cannot be combined with --sandbox options');
    return undefined;
  }
  if (!flagged && (configured === undefined || configured === false)) return undefined;
  let net: 'host' | 'broker' = configured === 'broker' ? 'broker' : 'host';
  if (raw.net !== undefined) {
    if (raw.net !== 'host' && raw.net !== 'broker') throw new AivaultError('usage', `--sandbox-net: expected host or broker, got '${raw.net}'`);
    net = raw.net;
  }
  const abs = (flag: string) => (p: string) => {
    if (p === '' || p.includes('\0')) throw new AivaultError('usage', `${flag}: invalid path`);
    return path.resolve(cwd, p);
  };
  return {
    net,
    hide: (raw.hide ?? []).map(abs('--sandbox-hide')),
    show: (raw.show ?? []).map(abs('--sandbox-show')),
    readonly: raw.readonly === true,
    write: (raw.write ?? []).map(abs('--sandbox-write')),
  };
}
