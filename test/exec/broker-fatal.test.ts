/**
 * SPEC §5: "if the broker dies the child is killed". The orchestration runs in-process with the
 * real modules; only startBroker is wrapped so the test can make the broker report a fatal error
 * while a child (and a SIGTERM-ignoring grandchild) is running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runExec } from '../../src/exec/run.js';
import { defaultDeps } from '../../src/exec/deps.js';
import { resolveExecOptions } from '../../src/exec/options.js';
import { startBroker } from '../../src/broker/index.js';
import { readAudit } from '../../src/audit/read.js';
import { alive, fx, NODE, tempVaultDir, waitForFile, waitGone } from './launch.js';

test('broker failure mid-run: child group killed, exit 125, teardown still writes run.ended', async () => {
  const dir = tempVaultDir();
  const pidFile = path.join(dir, 'grandchild-pid');
  const fatal: Array<(e: Error) => void> = [];
  const deps = defaultDeps();
  deps.startBroker = async (o) => {
    const b = await startBroker(o);
    return {
      ...b,
      onFatal: (cb) => {
        fatal.push(cb);
        b.onFatal(cb);
      },
    };
  };
  const lines: string[] = [];
  const opts = resolveExecOptions({ command: [NODE, fx('grandchild.mjs'), pidFile] }, undefined, undefined, dir);
  const running = runExec(opts, { env: { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: dir }, cwd: dir, stderr: (l) => lines.push(l), stdinIsTTY: false, graceMs: 500 }, deps);
  const gc = Number(await waitForFile(pidFile));
  assert.ok(alive(gc), 'grandchild started');
  assert.equal(fatal.length, 1, 'exec listens for broker failure');
  fatal[0]!(new Error('simulated broker crash'));
  const code = await running;
  assert.equal(code, 125);
  assert.ok(lines.some((l) => /broker failed \(simulated broker crash\)/.test(l)), lines.join('\n'));
  const gone = await waitGone(gc);
  if (!gone) process.kill(gc, 'SIGKILL');
  assert.ok(gone, 'the grandchild survived a broker failure');
  const ended = readAudit(dir, {}).find((e) => e.event === 'run.ended');
  assert.equal(ended?.exitCode, 125);
  assert.ok(fs.existsSync(path.join(dir, 'audit')));
});
