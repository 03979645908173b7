/**
 * Suite-wide leak registry (issue 13). `scripts/test.mjs` gives the whole `npm test` run one
 * directory (env AIVAULT_TEST_SUITE_DIR); node --test runs each test file in its own process, so
 * everything here is append-only files named by pid, never shared state:
 *   <suite>/sensitive/<pid>.txt  one value per line: run tokens and secrets the tests handled
 *   <suite>/audit/<pid>-<n>-<name>.jsonl  a copy of every audit file a test produced, taken just
 *                                 before the test removes its temp vault (see suite-preload.ts)
 * After all files ran, test/suite/audit-scan.final.ts scans every archived audit line for every
 * registered value. Outside `scripts/test.mjs` (no env var) all of this is a no-op.
 * Node built-ins only: the leak oracle imports this file.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SUITE_DIR_ENV = 'AIVAULT_TEST_SUITE_DIR';

function suiteDir(): string | undefined {
  const d = process.env[SUITE_DIR_ENV];
  return d && d.length > 0 ? d : undefined;
}

/** Remember a token or secret value: no audit file of the suite may contain it. */
export function registerSensitive(...values: Array<string | undefined | null>): void {
  const dir = suiteDir();
  if (!dir) return;
  const lines = values.filter((v): v is string => typeof v === 'string' && v.length >= 8 && !/[\r\n]/.test(v));
  if (lines.length === 0) return;
  fs.mkdirSync(path.join(dir, 'sensitive'), { recursive: true });
  fs.appendFileSync(path.join(dir, 'sensitive', `${process.pid}.txt`), lines.join('\n') + '\n');
}

let archived = 0;

/** Copy every `audit/*.jsonl` under `root` (a few levels deep) into the suite's audit archive. */
export function archiveAuditFiles(root: string): void {
  const dir = suiteDir();
  if (!dir) return;
  const found: string[] = [];
  (function walk(d: string, depth: number): void {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.name === 'audit') {
        try {
          for (const f of fs.readdirSync(p)) if (f.endsWith('.jsonl')) found.push(path.join(p, f));
        } catch {
          /* unreadable */
        }
      } else if (depth < 4) walk(p, depth + 1);
    }
  })(root, 0);
  if (found.length === 0) return;
  const out = path.join(dir, 'audit');
  fs.mkdirSync(out, { recursive: true });
  for (const f of found) {
    try {
      fs.copyFileSync(f, path.join(out, `${process.pid}-${archived++}-${path.basename(f)}`));
    } catch {
      /* vanished */
    }
  }
}
