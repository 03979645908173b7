import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempVaultDir } from '../helpers/cli.js';
import { openVault } from '../../src/vault/open.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

async function setup() {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir, HOME: dir };
  const v = await openVault({ env });
  const a = await v.createSecret('OPENAI_API_KEY', 'sk-SENTINEL-a');
  const b = await v.createSecret('GITHUB_TOKEN', 'ghp-SENTINEL-b');
  const c = await v.createSecret('PLAIN_C', 'SENTINEL-c');
  return { dir, env, a, b, c, fresh: () => openVault({ env }) };
}

async function corruptErr(p: Promise<unknown>, file: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AivaultError, String(e));
    assert.equal(e.code, 'vault_corrupt', e.message);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.equal(e.message.includes('\n'), false);
    assert.equal(/SENTINEL/.test(e.message), false);
    return;
  }
  assert.fail('expected vault_corrupt');
}

test('a flipped byte in the ciphertext fails closed naming the file; others keep working', async () => {
  const s = await setup();
  const rec = JSON.parse(fs.readFileSync(s.a.file, 'utf8'));
  const buf = Buffer.from(rec.value, 'base64');
  buf[buf.length - 5]! ^= 0x40;
  rec.value = buf.toString('base64');
  fs.writeFileSync(s.a.file, JSON.stringify(rec));
  const v = await s.fresh();
  await corruptErr(v.getSecretValue('OPENAI_API_KEY'), s.a.file);
  assert.equal(await v.getSecretValue('GITHUB_TOKEN'), 'ghp-SENTINEL-b');
  assert.equal(await v.getSecretValue('PLAIN_C'), 'SENTINEL-c');
  assert.equal((await v.listSecrets()).length, 3, 'metadata still listed, nothing silently dropped');
});

test('a flipped byte in the wrapped DEK fails closed', async () => {
  const s = await setup();
  const rec = JSON.parse(fs.readFileSync(s.b.file, 'utf8'));
  const k = Object.keys(rec.dek)[0]!;
  const buf = Buffer.from(rec.dek[k], 'base64');
  buf[30]! ^= 1;
  rec.dek[k] = buf.toString('base64');
  fs.writeFileSync(s.b.file, JSON.stringify(rec));
  await corruptErr((await s.fresh()).getSecretValue('GITHUB_TOKEN'), s.b.file);
  assert.equal(await (await s.fresh()).getSecretValue('OPENAI_API_KEY'), 'sk-SENTINEL-a');
});

test('swapping ciphertext and wrapped DEK between two records fails both', async () => {
  const s = await setup();
  const ra = JSON.parse(fs.readFileSync(s.a.file, 'utf8'));
  const rc = JSON.parse(fs.readFileSync(s.c.file, 'utf8'));
  [ra.value, rc.value] = [rc.value, ra.value];
  [ra.dek, rc.dek] = [rc.dek, ra.dek];
  fs.writeFileSync(s.a.file, JSON.stringify(ra));
  fs.writeFileSync(s.c.file, JSON.stringify(rc));
  const v = await s.fresh();
  await corruptErr(v.getSecretValue('OPENAI_API_KEY'), s.a.file);
  await corruptErr(v.getSecretValue('PLAIN_C'), s.c.file);
  assert.equal(await v.getSecretValue('GITHUB_TOKEN'), 'ghp-SENTINEL-b');
});

test('re-pinning on disk (pinnedProvider changed or removed) fails decryption', async () => {
  const s = await setup();
  const orig = fs.readFileSync(s.a.file, 'utf8');
  for (const pin of ['github', null, 'evil']) {
    const rec = JSON.parse(orig);
    rec.pinnedProvider = pin;
    fs.writeFileSync(s.a.file, JSON.stringify(rec));
    await corruptErr((await s.fresh()).getSecretValue('OPENAI_API_KEY'), s.a.file);
  }
  fs.writeFileSync(s.a.file, orig);
  assert.equal(await (await s.fresh()).getSecretValue('OPENAI_API_KEY'), 'sk-SENTINEL-a');
});

test('changing scope or id on disk, or moving a record file, fails closed', async () => {
  const s = await setup();
  const orig = fs.readFileSync(s.c.file, 'utf8');
  const rec = JSON.parse(orig);
  rec.id = 'f'.repeat(32);
  fs.writeFileSync(s.c.file, JSON.stringify(rec));
  await corruptErr((await s.fresh()).getSecretValue('PLAIN_C'), s.c.file);
  // scope change keeps the file name -> file name mismatch; renaming to the matching name -> AAD mismatch
  const moved = JSON.parse(orig);
  moved.scope = { kind: 'workspace', workspaceId: 'w1' };
  fs.writeFileSync(s.c.file, JSON.stringify(moved));
  await corruptErr((await s.fresh()).getSecretValue('PLAIN_C'), s.c.file);
  const v = await s.fresh();
  const target = path.join(path.dirname(s.c.file), (await import('../../src/vault/record.js')).recordFileName('PLAIN_C', moved.scope));
  fs.renameSync(s.c.file, target);
  await corruptErr(v.getSecretValue('PLAIN_C', { workspaceId: 'w1' }), target);
});

test('truncated or garbage record: listed as a problem naming the file, others listed and readable', async () => {
  const s = await setup();
  const text = fs.readFileSync(s.b.file, 'utf8');
  fs.writeFileSync(s.b.file, text.slice(0, text.length / 2));
  const v = await s.fresh();
  const { secrets, problems } = await v.scanSecrets();
  assert.deepEqual(secrets.map((x) => x.name).sort(), ['OPENAI_API_KEY', 'PLAIN_C']);
  assert.equal(problems.length, 1);
  assert.ok(problems[0]!.message.includes(s.b.file));
  await corruptErr(v.getSecretValue('GITHUB_TOKEN'), s.b.file);
  assert.equal(await v.getSecretValue('PLAIN_C'), 'SENTINEL-c');
  // a corrupt record can be deleted by name and re-created
  await v.deleteSecret('GITHUB_TOKEN');
  await v.createSecret('GITHUB_TOKEN', 'new');
  assert.equal(await v.getSecretValue('GITHUB_TOKEN'), 'new');
  // new writes still work while a record is broken
  fs.writeFileSync(s.c.file, '\0\0\0');
  await v.createSecret('ANOTHER', 'x');
  assert.equal((await v.scanSecrets()).problems.length, 1);
});

test('corrupt vault.json or key file: one-line error naming the file', async () => {
  const s = await setup();
  const metaFile = path.join(s.dir, 'vault.json');
  const meta = fs.readFileSync(metaFile, 'utf8');
  fs.writeFileSync(metaFile, '{"v":1');
  await assert.rejects((await s.fresh()).getSecretValue('PLAIN_C'), (e: AivaultError) => e.code === 'vault_corrupt' && e.message.includes(metaFile));
  fs.writeFileSync(metaFile, meta);
  const keyFile = path.join(s.dir, 'kek.key');
  fs.writeFileSync(keyFile, 'garbage\n');
  await assert.rejects((await s.fresh()).getSecretValue('PLAIN_C'), (e: AivaultError) => e.code === 'vault_locked' && e.message.includes(keyFile));
  fs.rmSync(keyFile);
  await assert.rejects((await s.fresh()).getSecretValue('PLAIN_C'), (e: AivaultError) => e.code === 'vault_locked' && /missing/.test(e.message));
});

test('write failure (simulated full disk) is one vault_io line and loses nothing', async () => {
  const s = await setup();
  const v = await s.fresh();
  process.env.AIVAULT_TEST_FAIL_WRITE = `${path.sep}secrets${path.sep}`;
  try {
    await assert.rejects(v.createSecret('NEW_ONE', 'x'), (e: AivaultError) => e.code === 'vault_io' && /no space left/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(v.rotateSecret('PLAIN_C', 'changed'), (e: AivaultError) => e.code === 'vault_io');
  } finally {
    delete process.env.AIVAULT_TEST_FAIL_WRITE;
  }
  const after = await s.fresh();
  assert.equal(await after.getSecretValue('PLAIN_C'), 'SENTINEL-c');
  assert.equal(after.findSecret('NEW_ONE'), undefined);
  assert.deepEqual(fs.readdirSync(path.join(s.dir, 'secrets')).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});
