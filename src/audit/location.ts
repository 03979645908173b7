/** Where the audit log lives (SPEC §7) and whether it is written at all. */
import os from 'node:os';
import path from 'node:path';

/** The vault root per SPEC §2: $AIVAULT_DIR, else ~/.aivault/vault. */
export function auditDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.AIVAULT_DIR;
  if (dir !== undefined && dir !== '') return path.resolve(dir);
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
  return path.join(home, '.aivault', 'vault');
}

/** True when AIVAULT_DISABLE_DISK_LOGS asks for no disk logging ('1' or 'true'). */
export function diskLogsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.AIVAULT_DISABLE_DISK_LOGS;
  return v === '1' || v?.toLowerCase() === 'true';
}

export function auditFileFor(dir: string, ts: string): string {
  return path.join(dir, 'audit', `${ts.slice(0, 10)}.jsonl`);
}
