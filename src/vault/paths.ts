import os from 'node:os';
import path from 'node:path';

/** Where a vault lives on disk (SPEC §2). */
export interface VaultPaths {
  root: string;
  /** vault.json: key provider, KDF parameters, KEK fingerprint */
  meta: string;
  /** one file per secret record */
  secretsDir: string;
  credentials: string;
  capabilities: string;
  lock: string;
  /** key file of the `file` key provider */
  keyFile: string;
  /** audit log directory */
  auditDir: string;
}

/** `$AIVAULT_DIR`, else `~/.aivault/vault`; key file `$AIVAULT_DIR/kek.key`, else `~/.aivault/keys/kek.key`. */
export function vaultPaths(env: NodeJS.ProcessEnv = process.env): VaultPaths {
  const home = env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir();
  const custom = env.AIVAULT_DIR && env.AIVAULT_DIR.length > 0 ? path.resolve(env.AIVAULT_DIR) : undefined;
  const root = custom ?? path.join(home, '.aivault', 'vault');
  return {
    root,
    meta: path.join(root, 'vault.json'),
    secretsDir: path.join(root, 'secrets'),
    credentials: path.join(root, 'credentials.json'),
    capabilities: path.join(root, 'capabilities.json'),
    lock: path.join(root, '.lock'),
    keyFile: custom ? path.join(root, 'kek.key') : path.join(home, '.aivault', 'keys', 'kek.key'),
    auditDir: path.join(root, 'audit'),
  };
}
