import { createHash } from 'node:crypto';
import { AivaultError } from '../../errors/aivault-error.js';
import { kekFingerprint } from '../../crypto/fingerprint.js';
import { defaultArgon2Params, deriveKeyFromPassphrase } from '../../crypto/kdf.js';
import { randomBytes } from '../../crypto/random.js';
import type { KeyProviderConfig, VaultMeta } from '../metadata.js';
import type { VaultPaths } from '../paths.js';
import { readEnvKek, loadEnvKek } from './env.js';
import { firstOrNewFileKek, loadFileKek, pruneFileKeks, stageFileKek } from './file.js';
import { keychainDelete, keychainGet, keychainSet } from './keychain.js';

/** What `init` / `rotate-master` asks for. */
export type KeyProviderSpec =
  | { type: 'file' }
  | { type: 'env'; keyEnv: string }
  | { type: 'passphrase'; passphrase: string }
  | { type: 'keychain' };

export interface KeyContext {
  paths: VaultPaths;
  env: NodeJS.ProcessEnv;
  /** the current passphrase (asked only when a passphrase vault must be unlocked) */
  passphrase: () => Promise<string>;
}

/** Unlocks: returns the KEK whose fingerprint is `meta.kekId`, or a one-line error. */
export async function loadKek(meta: VaultMeta, ctx: KeyContext): Promise<Uint8Array> {
  const kp = meta.keyProvider;
  switch (kp.type) {
    case 'file':
      return loadFileKek(ctx.paths.keyFile, meta.kekId);
    case 'env':
      return loadEnvKek(ctx.env, kp.keyEnv, meta.kekId);
    case 'passphrase': {
      const pass = await ctx.passphrase();
      const kek = await deriveKeyFromPassphrase(pass, kp.kdf);
      if (kekFingerprint(kek) !== meta.kekId) throw new AivaultError('passphrase_wrong', 'wrong passphrase');
      return kek;
    }
    case 'keychain': {
      const kek = await keychainGet(kp.service, kp.account);
      if (kekFingerprint(kek) !== meta.kekId) {
        throw new AivaultError('vault_locked', `the OS keychain entry ${kp.service}/${kp.account} holds a different key than this vault's`);
      }
      return kek;
    }
  }
}

/** A new KEK and its provider config, not yet committed. */
export interface NewKek {
  config: KeyProviderConfig;
  kek: Uint8Array;
  kekId: string;
  /** Makes the key durable where the provider keeps it, without removing the previous one. */
  stage(): Promise<void>;
}

export async function newKek(spec: KeyProviderSpec, ctx: KeyContext, opts: { reuseFileKey: boolean; previousKekId?: string }): Promise<NewKek> {
  switch (spec.type) {
    case 'file': {
      const { kek } = firstOrNewFileKek(ctx.paths.keyFile, opts.reuseFileKey);
      return { config: { type: 'file' }, kek, kekId: kekFingerprint(kek), stage: async () => stageFileKek(ctx.paths.keyFile, kek) };
    }
    case 'env': {
      const kek = readEnvKek(ctx.env, spec.keyEnv);
      const kekId = kekFingerprint(kek);
      if (kekId === opts.previousKekId) throw new AivaultError('usage', `${spec.keyEnv} holds the current master key; put a new key in it (openssl rand -base64 32)`);
      return { config: { type: 'env', keyEnv: spec.keyEnv }, kek, kekId, stage: async () => {} };
    }
    case 'passphrase': {
      if (spec.passphrase.length === 0) throw new AivaultError('usage', 'the passphrase must not be empty');
      const kdf = defaultArgon2Params();
      const kek = await deriveKeyFromPassphrase(spec.passphrase, kdf);
      return { config: { type: 'passphrase', kdf }, kek, kekId: kekFingerprint(kek), stage: async () => {} };
    }
    case 'keychain': {
      const kek = randomBytes(32);
      const kekId = kekFingerprint(kek);
      const service = 'aivault';
      const account = `${createHash('sha256').update(ctx.paths.root).digest('hex').slice(0, 12)}-${kekId}`;
      return { config: { type: 'keychain', service, account }, kek, kekId, stage: () => keychainSet(service, account, kek) };
    }
  }
}

/** After the metadata names the new key: remove the previous key where we stored it (best effort). */
export async function retireKek(prev: VaultMeta, next: VaultMeta, ctx: KeyContext): Promise<void> {
  try {
    if (prev.keyProvider.type === 'file') pruneFileKeks(ctx.paths.keyFile, next.keyProvider.type === 'file' ? next.kekId : undefined);
    if (prev.keyProvider.type === 'keychain') await keychainDelete(prev.keyProvider.service, prev.keyProvider.account);
  } catch {
    // the rotation is committed; an extra retired key left behind does not unlock anything new
  }
}
