import { auditDirFromEnv, diskLogsDisabled, openAuditLog } from '../audit/log.js';
import { openVault, type OpenVaultOptions } from './open.js';
import type { Vault } from './vault.js';

/**
 * Runs `fn` with a vault whose changes go to the audit log (SPEC §7), then flushes the log.
 * A failed audit flush is reported on stderr as one line; the vault change itself stands.
 */
export async function withAuditedVault<T>(fn: (vault: Vault) => Promise<T>, opts: Omit<OpenVaultOptions, 'audit'> = {}): Promise<T> {
  const env = opts.env ?? process.env;
  const audit = openAuditLog({ dir: auditDirFromEnv(env), disabled: diskLogsDisabled(env) });
  const vault = await openVault({ ...opts, env, audit });
  try {
    return await fn(vault);
  } finally {
    try {
      await audit.flush();
    } catch (e) {
      process.stderr.write(`aivault: warning: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    }
  }
}
