import fs from 'node:fs';
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

/**
 * `aivault exec --sandbox` hides the vault from the command behind an empty read-only directory
 * holding only this marker, so a nested aivault can say why it finds no vault (SPEC §9).
 */
export const SANDBOX_HIDDEN_MARKER = '.aivault-hidden-by-sandbox';

/** The hidden directory (root or an ancestor) when `root` is hidden by a sandbox, else undefined. */
export function sandboxHiddenAt(root: string): string | undefined {
  let dir = path.resolve(root);
  for (;;) {
    try {
      fs.accessSync(path.join(dir, SANDBOX_HIDDEN_MARKER));
      return dir;
    } catch {
      /* not here */
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
