import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempVaultDir } from '../helpers/cli.js';
import { withLock } from '../../src/vault/lock.js';
import { openVault } from '../../src/vault/open.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

function deadPid(): number {
  // a pid that is certainly not running
  for (let p = 4_000_000; ; p--) {
    try {
      process.kill(p, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return p;
    }
  }
}

test('a lock left by a dead process is broken', async () => {
  const dir = tempVaultDir();
  const lock = path.join(dir, '.lock');
  fs.writeFileSync(lock, `${deadPid()}\nabcdef\n${Date.now()}\n`);
  const r = await withLock(lock, () => 42, 2_000);
  assert.equal(r, 42);
  assert.equal(fs.existsSync(lock), false);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('a live holder makes others wait; a lock held too long times out with one vault_io line', async () => {
  const dir = tempVaultDir();
  const lock = path.join(dir, '.lock');
  const order: string[] = [];
  let release!: () => void;
  const held = withLock(lock, () => new Promise<void>((r) => (release = () => { order.push('first-done'); r(); })));
  await new Promise((r) => setTimeout(r, 20));
  const second = withLock(lock, () => { order.push('second'); });
  await assert.rejects(withLock(lock, () => 1, 200), (e: AivaultError) => e.code === 'vault_io' && /busy/.test(e.message) && e.message.includes(`pid ${process.pid}`));
  release();
  await held;
  await second;
  assert.deepEqual(order, ['first-done', 'second']);
});

test('parallel writers in one process all land', async () => {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir, HOME: dir };
  await Promise.all(Array.from({ length: 25 }, async (_, i) => (await openVault({ env })).createSecret(`P_${i}`, `v${i}`)));
  const v = await openVault({ env });
  assert.equal((await v.listSecrets()).length, 25);
  for (let i = 0; i < 25; i++) assert.equal(await v.getSecretValue(`P_${i}`), `v${i}`);
});
