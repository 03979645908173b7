import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempVaultDir } from '../helpers/cli.js';
import { openVault } from '../../src/vault/open.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

const KEY_B = Buffer.alloc(32, 0xb).toString('base64');

async function populated(n: number) {
  const dir = tempVaultDir();
  const env: NodeJS.ProcessEnv = { AIVAULT_DIR: dir, HOME: dir, KEY_B };
  const v = await openVault({ env });
  const want = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    want.set(`S_${i}`, `SENTINEL-rot-${i}`);
    await v.createSecret(`S_${i}`, `SENTINEL-rot-${i}`);
  }
  return { dir, env, want };
}

async function assertAll(env: NodeJS.ProcessEnv, want: Map<string, string>, passphrase?: string) {
  const v = await openVault({ env, ...(passphrase ? { passphrase } : {}) });
  for (const [k, val] of want) assert.equal(await v.getSecretValue(k), val, k);
}

function recordWraps(dir: string): number[] {
  const sd = path.join(dir, 'secrets');
  return fs.readdirSync(sd).filter((f) => f.endsWith('.json')).map((f) => Object.keys(JSON.parse(fs.readFileSync(path.join(sd, f), 'utf8')).dek).length);
}

test('file -> file: new fingerprint, one key left in the key file, one wrap per record', async () => {
  const { dir, env, want } = await populated(5);
  const v = await openVault({ env });
  const before = (await v.status()).fingerprint;
  const r = await v.rotateMaster();
  assert.equal(r.rotated, 5);
  assert.notEqual(r.fingerprint, before);
  assert.equal(fs.readFileSync(path.join(dir, 'kek.key'), 'utf8').trim().split('\n').length, 1);
  assert.deepEqual(recordWraps(dir), [1, 1, 1, 1, 1]);
  await assertAll(env, want);
});

test('provider migration chain file -> passphrase -> env -> file keeps every secret', async () => {
  const { dir, env, want } = await populated(3);
  await (await openVault({ env })).rotateMaster({ type: 'passphrase', passphrase: 'pp-one' });
  assert.equal(fs.existsSync(path.join(dir, 'kek.key')), false, 'retired file key removed');
  await assertAll(env, want, 'pp-one');
  await assert.rejects((await openVault({ env, passphrase: 'nope' })).getSecretValue('S_0'), (e: AivaultError) => e.code === 'passphrase_wrong');
  await (await openVault({ env, passphrase: 'pp-one' })).rotateMaster({ type: 'env', keyEnv: 'KEY_B' });
  await assertAll(env, want);
  // the env provider refuses a "new" key equal to the current one
  await assert.rejects((await openVault({ env })).rotateMaster({ type: 'env', keyEnv: 'KEY_B' }), (e: AivaultError) => e.code === 'usage');
  await (await openVault({ env })).rotateMaster({ type: 'file' });
  await assertAll({ AIVAULT_DIR: dir, HOME: dir }, want);
});

test('a corrupt record aborts the rotation before anything switches', async () => {
  const { dir, env, want } = await populated(3);
  const v = await openVault({ env });
  const bad = v.findSecret('S_1')!.file;
  fs.writeFileSync(bad, '{');
  const fp = (await v.status()).fingerprint;
  await assert.rejects(v.rotateMaster(), (e: AivaultError) => e.code === 'vault_corrupt' && e.message.includes(bad));
  assert.equal((await (await openVault({ env })).status()).fingerprint, fp);
  want.delete('S_1');
  await assertAll(env, want);
  assert.equal(fs.readFileSync(path.join(dir, 'kek.key'), 'utf8').trim().split('\n').length, 1);
});

test('failure at the commit point (metadata write) leaves the old key in charge; a retry succeeds', async () => {
  const { dir, env, want } = await populated(4);
  const fp = (await (await openVault({ env })).status()).fingerprint;
  process.env.AIVAULT_TEST_FAIL_WRITE = 'vault.json';
  try {
    await assert.rejects((await openVault({ env })).rotateMaster(), (e: AivaultError) => e.code === 'vault_io');
  } finally {
    delete process.env.AIVAULT_TEST_FAIL_WRITE;
  }
  assert.equal((await (await openVault({ env })).status()).fingerprint, fp);
  assert.deepEqual(recordWraps(dir), [2, 2, 2, 2], 'staged wraps are harmless leftovers');
  await assertAll(env, want);
  const r = await (await openVault({ env })).rotateMaster();
  assert.notEqual(r.fingerprint, fp);
  assert.deepEqual(recordWraps(dir), [1, 1, 1, 1]);
  await assertAll(env, want);
});

test('SIGKILL at random points of repeated rotations always leaves a loadable vault', async () => {
  const { dir, env, want } = await populated(30);
  const modUrl = new URL('../../src/vault/open.js', import.meta.url).href;
  const script = `import { openVault } from ${JSON.stringify(modUrl)};
const v = await openVault({ env: { AIVAULT_DIR: ${JSON.stringify(dir)}, HOME: ${JSON.stringify(dir)} } });
process.stdout.write('ready\\n');
for (;;) await v.rotateMaster();`;
  for (const delay of [150, 420, 777]) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.dirname(fileURLToPath(import.meta.url)) });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    // the dead writer's lock is broken automatically; every value still opens
    await assertAll(env, want);
    const v = await openVault({ env });
    await v.createSecret(`AFTER_${delay}`, 'x');
    want.set(`AFTER_${delay}`, 'x');
  }
});
