/**
 * Temporary directories for tests. Every directory made here is removed when the test process
 * exits (node --test runs each test file in its own process), whether the test passed, failed or
 * forgot to clean up. scripts/test.mjs runs the suite with a private TMPDIR and fails when any
 * `aivault-*` entry is left behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

function removeAll(): void {
  for (const d of made.splice(0)) {
    try {
      fs.rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* best effort: the suite-level check reports what is left */
    }
  }
}

/** A fresh directory under the OS temp dir, removed at process exit. */
export function tempDir(prefix = 'aivault-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (made.length === 0) process.once('exit', removeAll);
  made.push(dir);
  return dir;
}
