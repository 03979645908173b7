/**
 * Loaded into every test-file process by scripts/test.mjs (`node --import`): before a test removes
 * a directory with fs.rmSync, the audit files inside it are archived for the suite-wide audit scan
 * (see suite-registry.ts). Tests need no change to take part; nothing happens outside npm test.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { archiveAuditFiles, SUITE_DIR_ENV } from './suite-registry.js';

if (process.env[SUITE_DIR_ENV]) {
  const rmSync = fs.rmSync;
  fs.rmSync = function patchedRmSync(p: fs.PathLike, opts?: fs.RmOptions): void {
    try {
      if (typeof p === 'string' && fs.statSync(p).isDirectory()) archiveAuditFiles(p);
    } catch {
      /* nothing to archive */
    }
    rmSync.call(fs, p, opts);
  } as typeof fs.rmSync;
  syncBuiltinESMExports();
}
