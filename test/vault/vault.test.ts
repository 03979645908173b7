import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempVaultDir } from '../helpers/cli.js';
import { openVault, type Vault } from '../../src/vault/open.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { keychainAvailable } from '../../src/vault/key-providers/keychain.js';

const SENTINEL = 'sk-SENTINEL-vault-7f3a9c';

function envFor(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { AIVAULT_DIR: dir, HOME: dir, ...extra };
}

async function fresh(extra: Record<string, string> = {}): Promise<{ dir: string; env: NodeJS.ProcessEnv; vault: Vault }> {
  const dir = tempVaultDir();
  const env = envFor(dir, extra);
  return { dir, env, vault: await openVault({ env }) };
}

/** Every file under dir, recursively. */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

function assertNoPlaintext(dir: string, needle: string): void {
  for (const f of allFiles(dir)) {
    const b = fs.readFileSync(f);
    assert.equal(b.includes(Buffer.from(needle)), false, `${f} holds the plaintext`);
    assert.equal(b.includes(Buffer.from(Buffer.from(needle).toString('base64').slice(0, 16))), false, `${f} holds base64 plaintext`);
  }
}

async function rejectsCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<AivaultError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AivaultError, `expected AivaultError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.message.includes('\n'), false);
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('file provider: auto-init on first write, round-trip across processes, 0700/0600, no plaintext on disk', async () => {
  const { dir, env, vault } = await fresh();
  assert.equal(vault.isInitialized(), false);
  assert.deepEqual(await vault.listSecrets(), []);
  const m = await vault.createSecret('OPENAI_API_KEY', SENTINEL);
  assert.equal(m.pinnedProvider, 'openai');
  assert.equal(vault.isInitialized(), true);
  const again = await openVault({ env });
  assert.equal(await again.getSecretValue('OPENAI_API_KEY'), SENTINEL);
  const st = await again.status();
  assert.equal(st.provider, 'file');
  assert.match(st.fingerprint ?? '', /^[0-9a-f]{16}$/);
  assert.equal(st.secretCount, 1);
  assert.equal(st.keyFile, path.join(dir, 'kek.key'));
  for (const f of allFiles(dir)) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.equal(fs.statSync(path.join(dir, 'secrets')).mode & 0o777, 0o700);
  assertNoPlaintext(dir, SENTINEL);
  // the status never carries the key
  const key = fs.readFileSync(path.join(dir, 'kek.key'), 'utf8').trim();
  assert.equal(JSON.stringify(st).includes(key), false);
});

test('default paths: ~/.aivault/vault and ~/.aivault/keys/kek.key when AIVAULT_DIR is unset', async () => {
  const home = tempVaultDir();
  const vault = await openVault({ env: { HOME: home } });
  await vault.createSecret('X_TOKEN', SENTINEL);
  assert.ok(fs.existsSync(path.join(home, '.aivault', 'keys', 'kek.key')));
  assert.ok(fs.existsSync(path.join(home, '.aivault', 'vault', 'vault.json')));
  assert.equal(fs.existsSync(path.join(home, '.aivault', 'vault', 'kek.key')), false);
  assert.equal(await (await openVault({ env: { HOME: home } })).getSecretValue('X_TOKEN'), SENTINEL);
});

test('env provider: round-trip; missing, bad base64 and wrong key fail with one line', async () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const { env, vault } = await fresh({ MY_KEK: key });
  await vault.init({ type: 'env', keyEnv: 'MY_KEK' });
  await vault.createSecret('ANTHROPIC_API_KEY', SENTINEL);
  assert.equal(await (await openVault({ env })).getSecretValue('ANTHROPIC_API_KEY'), SENTINEL);
  const dir = env.AIVAULT_DIR!;
  assert.equal(fs.existsSync(path.join(dir, 'kek.key')), false);
  await rejectsCode((await openVault({ env: envFor(dir) })).getSecretValue('ANTHROPIC_API_KEY'), 'vault_locked', /MY_KEK .*not set/);
  await rejectsCode((await openVault({ env: envFor(dir, { MY_KEK: 'not base64 !!' }) })).getSecretValue('ANTHROPIC_API_KEY'), 'vault_locked', /not a base64-encoded 32-byte key/);
  await rejectsCode((await openVault({ env: envFor(dir, { MY_KEK: Buffer.alloc(16, 7).toString('base64') }) })).getSecretValue('ANTHROPIC_API_KEY'), 'vault_locked', /32-byte/);
  await rejectsCode((await openVault({ env: envFor(dir, { MY_KEK: Buffer.alloc(32, 8).toString('base64') }) })).getSecretValue('ANTHROPIC_API_KEY'), 'vault_locked', /different key/);
  // init itself refuses a bad key
  const other = await fresh({ K: 'abc' });
  await rejectsCode(other.vault.init({ type: 'env', keyEnv: 'K' }), 'vault_locked', /K is not a base64/);
});

test('passphrase provider: round-trip, wrong passphrase is passphrase_wrong, no passphrase is vault_locked', async () => {
  const { dir, vault } = await fresh();
  await vault.init({ type: 'passphrase', passphrase: 'correct horse battery' });
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'vault.json'), 'utf8'));
  assert.equal(meta.keyProvider.type, 'passphrase');
  assert.equal(meta.keyProvider.kdf.alg, 'argon2id');
  await vault.createSecret('GITHUB_TOKEN', SENTINEL);
  assert.equal(await (await openVault({ env: envFor(dir), passphrase: 'correct horse battery' })).getSecretValue('GITHUB_TOKEN'), SENTINEL);
  assert.equal(await (await openVault({ env: envFor(dir, { AIVAULT_PASSPHRASE: 'correct horse battery' }) })).getSecretValue('GITHUB_TOKEN'), SENTINEL);
  await rejectsCode((await openVault({ env: envFor(dir), passphrase: 'wrong horse' })).getSecretValue('GITHUB_TOKEN'), 'passphrase_wrong', /^wrong passphrase$/);
  await rejectsCode((await openVault({ env: envFor(dir) })).getSecretValue('GITHUB_TOKEN'), 'vault_locked', /AIVAULT_PASSPHRASE/);
  // listing metadata needs no passphrase
  assert.equal((await (await openVault({ env: envFor(dir) })).listSecrets()).length, 1);
  assertNoPlaintext(dir, SENTINEL);
  assertNoPlaintext(dir, 'correct horse battery');
});

test('keychain provider round-trip', async (t) => {
  const probe = await keychainAvailable();
  if (!probe.ok) {
    t.skip(`no OS keychain here: ${probe.reason}`);
    return;
  }
  const { env, vault } = await fresh();
  await vault.init({ type: 'keychain' });
  await vault.createSecret('OPENAI_API_KEY', SENTINEL);
  assert.equal(await (await openVault({ env })).getSecretValue('OPENAI_API_KEY'), SENTINEL);
  await vault.rotateMaster({ type: 'file' });
});

test('keychain unavailable: one-line keychain_unavailable error, vault unchanged', async () => {
  const probe = await keychainAvailable();
  const prev = process.env.AIVAULT_TEST_NO_KEYCHAIN;
  if (probe.ok) process.env.AIVAULT_TEST_NO_KEYCHAIN = '1';
  try {
    const { vault } = await fresh();
    await rejectsCode(vault.init({ type: 'keychain' }), 'keychain_unavailable', /keychain is not available/);
    assert.equal(vault.isInitialized(), false);
  } finally {
    if (prev === undefined) delete process.env.AIVAULT_TEST_NO_KEYCHAIN;
    else process.env.AIVAULT_TEST_NO_KEYCHAIN = prev;
  }
});

test('init refuses to replace the key of a vault that holds secrets; allowed while empty', async () => {
  const { vault } = await fresh({ K: Buffer.alloc(32, 3).toString('base64') });
  await vault.init({ type: 'file' });
  await vault.init({ type: 'env', keyEnv: 'K' });
  assert.equal((await vault.status()).provider, 'env');
  await vault.createSecret('A_KEY', SENTINEL);
  await rejectsCode(vault.init({ type: 'file' }), 'usage', /rotate-master/);
  assert.equal(await vault.getSecretValue('A_KEY'), SENTINEL);
});

test('create/rotate/delete, duplicates, scopes (group > workspace > global)', async () => {
  const { vault } = await fresh();
  await vault.createSecret('API_TOKEN', 'global-v');
  await vault.createSecret('API_TOKEN', 'ws-v', { scope: { kind: 'workspace', workspaceId: 'w1' } });
  await vault.createSecret('API_TOKEN', 'grp-v', { scope: { kind: 'group', workspaceId: 'w1', groupId: 'g1' } });
  await rejectsCode(vault.createSecret('API_TOKEN', 'x'), 'secret_exists');
  assert.equal(await vault.getSecretValue('API_TOKEN'), 'global-v');
  assert.equal(await vault.getSecretValue('API_TOKEN', { workspaceId: 'w1' }), 'ws-v');
  assert.equal(await vault.getSecretValue('API_TOKEN', { workspaceId: 'w2' }), 'global-v');
  assert.equal(await vault.getSecretValue('API_TOKEN', { workspaceId: 'w1', groupId: 'g1' }), 'grp-v');
  assert.equal(await vault.getSecretValue('API_TOKEN', { workspaceId: 'w1', groupId: 'g2' }), 'ws-v');
  const before = vault.findSecret('API_TOKEN')!;
  const after = await vault.rotateSecret('API_TOKEN', 'global-v2');
  assert.equal(after.id, before.id);
  assert.equal(after.createdAt, before.createdAt);
  assert.equal(await vault.getSecretValue('API_TOKEN'), 'global-v2');
  await rejectsCode(vault.rotateSecret('NOPE', 'x'), 'secret_not_found');
  await vault.deleteSecret('API_TOKEN', { scope: { kind: 'workspace', workspaceId: 'w1' } });
  assert.equal(await vault.getSecretValue('API_TOKEN', { workspaceId: 'w1' }), 'global-v2');
  await rejectsCode(vault.deleteSecret('API_TOKEN', { scope: { kind: 'workspace', workspaceId: 'w1' } }), 'secret_not_found');
  assert.equal((await vault.listSecrets()).length, 2);
  await rejectsCode(vault.createSecret('1BAD', 'x'), 'usage');
  await rejectsCode(vault.createSecret('GOOD', ''), 'usage');
  await rejectsCode(vault.getSecretValue('MISSING'), 'secret_not_found');
});

test('pinning: claimed names record their provider; the pin survives rotation', async () => {
  const { vault } = await fresh();
  assert.equal((await vault.createSecret('TELEGRAM_BOT_TOKEN', SENTINEL)).pinnedProvider, 'telegram');
  assert.equal((await vault.createSecret('SOMETHING_ELSE', SENTINEL)).pinnedProvider, null);
  assert.equal((await vault.rotateSecret('TELEGRAM_BOT_TOKEN', 'v2')).pinnedProvider, 'telegram');
});

test('containsValue finds stored values only, including scoped ones', async () => {
  const { vault } = await fresh();
  assert.equal(await vault.containsValue(SENTINEL), false);
  await vault.createSecret('A_KEY', 'alpha-value');
  await vault.createSecret('B_KEY', SENTINEL, { scope: { kind: 'workspace', workspaceId: 'w' } });
  assert.equal(await vault.containsValue(SENTINEL), true);
  assert.equal(await vault.containsValue('alpha-value'), true);
  assert.equal(await vault.containsValue('alpha-valu'), false);
  assert.equal(await vault.containsValue(''), false);
});

test('import: dotenv file creates, rotates changed values, leaves unchanged ones; bad names write nothing', async () => {
  const { dir, vault } = await fresh();
  const f = path.join(dir, 'x.env');
  fs.writeFileSync(f, `# c\nexport OPENAI_API_KEY="${SENTINEL}"\nPLAIN=one\nMULTI="a\nb"\n`);
  const r1 = await vault.importEnvFile(f);
  assert.deepEqual(r1.created.sort(), ['MULTI', 'OPENAI_API_KEY', 'PLAIN']);
  assert.equal(await vault.getSecretValue('MULTI'), 'a\nb');
  assert.equal(vault.findSecret('OPENAI_API_KEY')!.pinnedProvider, 'openai');
  fs.writeFileSync(f, `OPENAI_API_KEY=${SENTINEL}\nPLAIN=two\n`);
  const r2 = await vault.importEnvFile(f);
  assert.deepEqual(r2, { created: [], rotated: ['PLAIN'], unchanged: ['OPENAI_API_KEY'] });
  fs.writeFileSync(f, `NEWONE=x\n9BAD=y\n`);
  await rejectsCode(vault.importEnvFile(f), 'dotenv_syntax');
  assert.equal(vault.findSecret('NEWONE'), undefined);
  await rejectsCode(vault.importEnvFile(path.join(dir, 'missing.env')), 'usage', /cannot read/);
  fs.rmSync(f);
  assertNoPlaintext(dir, SENTINEL);
});
