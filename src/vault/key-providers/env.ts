import { AivaultError } from '../../errors/aivault-error.js';
import { kekFingerprint } from '../../crypto/fingerprint.js';
import { decodeKey } from './decode-key.js';

/** `env` key provider: a base64 32-byte key in a named environment variable. */
export function readEnvKek(env: NodeJS.ProcessEnv, name: string): Uint8Array {
  const v = env[name];
  if (v === undefined || v === '') {
    throw new AivaultError('vault_locked', `environment variable ${name} (the vault's key) is not set; generate one with: openssl rand -base64 32`);
  }
  const k = decodeKey(v);
  if (!k) throw new AivaultError('vault_locked', `environment variable ${name} is not a base64-encoded 32-byte key`);
  return k;
}

export function loadEnvKek(env: NodeJS.ProcessEnv, name: string, kekId: string): Uint8Array {
  const k = readEnvKek(env, name);
  if (kekFingerprint(k) !== kekId) throw new AivaultError('vault_locked', `environment variable ${name} holds a different key than this vault's (fingerprint ${kekId})`);
  return k;
}
