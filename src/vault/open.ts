import type { AuditSink } from '../audit/types.js';
import { loadRegistry, type Registry } from '../registry/load.js';
import { AivaultError } from '../errors/aivault-error.js';
import { sandboxHiddenAt, vaultPaths } from './paths.js';
import { Vault } from './vault.js';

export { Vault } from './vault.js';
export type { SecretMeta, VaultStatus, ImportResult } from './vault.js';
export type { SecretScope, ScopeQuery } from './scope.js';
export { makeScope, scopeLabel, GLOBAL } from './scope.js';
export type { KeyProviderSpec } from './key-providers/index.js';
export type { StoredCredential, StoredCapability } from './custom-store.js';
export type { CredentialInput, CapabilityInput } from './custom-validate.js';
export { vaultPaths, type VaultPaths } from './paths.js';

export interface OpenVaultOptions {
  env?: NodeJS.ProcessEnv;
  /** passphrase for a passphrase vault (else AIVAULT_PASSPHRASE, else a TTY prompt when needed) */
  passphrase?: string;
  /** registry used for pinning (default: the shipped registry, loaded on first need) */
  registry?: Registry;
  /** where secret/credential/capability/master events go (the CLI passes the audit log) */
  audit?: AuditSink;
}

/**
 * Opens the vault at $AIVAULT_DIR (else ~/.aivault/vault). Cheap: reads no key and decrypts
 * nothing until an operation needs it; the first write initialises the vault (file key provider).
 */
export async function openVault(opts: OpenVaultOptions = {}): Promise<Vault> {
  const env = opts.env ?? process.env;
  const paths = vaultPaths(env);
  const hidden = sandboxHiddenAt(paths.root);
  if (hidden !== undefined) {
    throw new AivaultError('vault_io', `no vault here: ${hidden} is hidden from commands run by \`aivault exec --sandbox\` (a sandboxed command uses the broker, never the vault)`);
  }
  return new Vault({
    paths,
    env,
    ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    ...(opts.audit !== undefined ? { audit: opts.audit } : {}),
    loadRegistry: () => loadRegistry(),
  });
}
