import { AivaultError } from '../errors/aivault-error.js';
import { isArgon2Params, type Argon2Params } from '../crypto/kdf.js';
import { readJsonIfExists, writeFileAtomic } from './fs-atomic.js';

export type KeyProviderName = 'file' | 'env' | 'passphrase' | 'keychain';

/** How the KEK is obtained; stored in vault.json (never the key itself). */
export type KeyProviderConfig =
  | { type: 'file' }
  | { type: 'env'; keyEnv: string }
  | { type: 'passphrase'; kdf: Argon2Params }
  | { type: 'keychain'; service: string; account: string };

/** vault.json */
export interface VaultMeta {
  v: 1;
  keyProvider: KeyProviderConfig;
  /** fingerprint of the KEK (check value: a wrong key or passphrase is detected before any record is touched) */
  kekId: string;
  createdAt: string;
  rotatedAt?: string;
}

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isEnvName(s: string): boolean {
  return ENV_NAME_RE.test(s);
}

function isKeyProviderConfig(x: unknown): x is KeyProviderConfig {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  switch (o.type) {
    case 'file':
      return true;
    case 'env':
      return typeof o.keyEnv === 'string' && ENV_NAME_RE.test(o.keyEnv);
    case 'passphrase':
      return isArgon2Params(o.kdf);
    case 'keychain':
      return typeof o.service === 'string' && o.service.length > 0 && typeof o.account === 'string' && o.account.length > 0;
    default:
      return false;
  }
}

/** Reads vault.json; undefined when the vault is not initialised yet. */
export function readMeta(file: string): VaultMeta | undefined {
  const x = readJsonIfExists(file);
  if (x === undefined) return undefined;
  const o = x as Record<string, unknown>;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.v !== 1 ||
    !isKeyProviderConfig(o.keyProvider) ||
    typeof o.kekId !== 'string' ||
    !/^[0-9a-f]{16}$/.test(o.kekId) ||
    typeof o.createdAt !== 'string'
  ) {
    throw new AivaultError('vault_corrupt', `vault metadata ${file} is corrupt (unexpected structure)`, { file });
  }
  return o as unknown as VaultMeta;
}

export function writeMeta(file: string, meta: VaultMeta): void {
  writeFileAtomic(file, JSON.stringify(meta, null, 2) + '\n');
}
