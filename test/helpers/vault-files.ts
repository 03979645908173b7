/** The vault's files as data, for tests that prove a command wrote nothing (or something). */
import fs from 'node:fs';
import path from 'node:path';

/** Every file under the vault root with its content, except the lock and the audit log. */
export function vaultSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  (function walk(d: string) {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) {
        if (n !== 'audit') walk(p);
      } else if (n !== '.lock') out[path.relative(dir, p)] = fs.readFileSync(p, 'latin1');
    }
  })(dir);
  return out;
}
