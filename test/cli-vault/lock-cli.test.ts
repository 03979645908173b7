/**
 * Every vault-writing CLI command waits for the vault lock held by another live process, writes
 * nothing meanwhile, and completes once the lock is released (issue 13: the second, end-to-end
 * check beside test/vault/write-locks.test.ts). The lock is held by this test process through the
 * vault's own lock primitive, so the CLI sees a live holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, runCli, tempVaultDir } from '../helpers/cli.js';
import { vaultSnapshot } from '../helpers/vault-files.js';
import { withLock } from '../../src/vault/lock.js';

const WAIT_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CRED = ['credential', 'create', 'acme-main', '--provider', 'acme', '--secret', 'ACME_KEY', '--host', 'api.acme.com', '--auth', 'header', '--header-name', 'x-acme-key', '--value-template', '{{secret}}'];
const CAP = ['capability', 'create', 'acme/widgets', '--provider', 'acme', '--host', 'api.acme.com', '--method', 'GET', '--path-prefix', '/v1/widgets'];

const CASES: Array<{ name: string; setup?: string[][]; args: string[]; input?: string; check: (env: Record<string, string>, dir: string) => Promise<void> }> = [
  { name: 'secrets create', args: ['secrets', 'create', '--name', 'NEW_KEY', '--value-stdin'], input: 'v1', check: async (_e, dir) => assert.equal(fs.readdirSync(path.join(dir, 'secrets')).length, 2) },
  { name: 'secrets rotate', args: ['secrets', 'rotate', '--name', 'SEED_KEY', '--value-stdin'], input: 'v2', check: async (_e, dir) => assert.equal(fs.readdirSync(path.join(dir, 'secrets')).length, 1) },
  { name: 'secrets delete', args: ['secrets', 'delete', '--name', 'SEED_KEY'], check: async (_e, dir) => assert.equal(fs.readdirSync(path.join(dir, 'secrets')).length, 0) },
  { name: 'credential create', args: CRED, check: async (_e, dir) => assert.match(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'), /acme-main/) },
  { name: 'credential delete', setup: [CRED], args: ['credential', 'delete', 'acme-main'], check: async (_e, dir) => assert.doesNotMatch(fs.readFileSync(path.join(dir, 'credentials.json'), 'utf8'), /acme-main/) },
  { name: 'capability create', args: CAP, check: async (_e, dir) => assert.match(fs.readFileSync(path.join(dir, 'capabilities.json'), 'utf8'), /acme\/widgets/) },
  { name: 'capability delete', setup: [CAP], args: ['capability', 'delete', 'acme/widgets'], check: async (_e, dir) => assert.doesNotMatch(fs.readFileSync(path.join(dir, 'capabilities.json'), 'utf8'), /acme\/widgets/) },
  { name: 'secrets import', args: ['secrets', 'import', '--env-file', '{{DIR}}/import.env'], check: async (_e, dir) => assert.equal(fs.readdirSync(path.join(dir, 'secrets')).length, 2) },
  { name: 'rotate-master', args: ['rotate-master'], check: async (env) => assert.equal((await runCli(['secrets', 'list', '--json'], { env })).code, 0) },
];

for (const c of CASES) {
  test(`aivault ${c.name} waits while another process holds the vault lock, then completes`, async () => {
    const dir = tempVaultDir('aivault-lockcli-');
    const env = { AIVAULT_DIR: dir, HOME: dir };
    try {
      const seed = await runCli(['secrets', 'create', '--name', 'SEED_KEY', '--value-stdin'], { env, input: 'seed' });
      assert.equal(seed.code, 0, seed.stderr);
      fs.writeFileSync(path.join(dir, 'import.env'), 'IMPORTED_ONE=1\n');
      for (const s of c.setup ?? []) {
        const r = await runCli(s, { env });
        assert.equal(r.code, 0, r.stderr);
      }
      let release!: () => void;
      let holding!: () => void;
      const held = new Promise<void>((r) => (holding = r));
      const holder = withLock(path.join(dir, '.lock'), () => {
        holding();
        return new Promise<void>((r) => (release = r));
      });
      await held;
      const before = vaultSnapshot(dir);
      const args = c.args.map((a) => a.replace('{{DIR}}', dir));
      const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      child.stdout.resume();
      child.stdin.end(c.input ?? '');
      let exit: number | null | undefined;
      const done = new Promise<void>((r) => child.on('close', (code) => ((exit = code), r())));
      await sleep(WAIT_MS);
      assert.equal(exit, undefined, `aivault ${c.name} did not wait for the lock (exit ${exit}: ${stderr})`);
      assert.deepEqual(vaultSnapshot(dir), before, `aivault ${c.name} wrote while the lock was held`);
      release();
      await holder;
      await done;
      assert.equal(exit, 0, stderr);
      assert.notDeepEqual(vaultSnapshot(dir), before, 'the write happened once the lock was released');
      await c.check(env, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
