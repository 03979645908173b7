/** secrets attach/detach: moving a secret between scopes re-seals it; nothing is lost or leaked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, tempVaultDir } from '../helpers/cli.js';
import { openVault } from '../../src/vault/open.js';
import { AivaultError } from '../../src/errors/aivault-error.js';

const SENTINEL = 'sk-SENTINEL-move-4d2e8b1c';
const W1 = { kind: 'workspace', workspaceId: 'w1' } as const;
const G1 = { kind: 'group', workspaceId: 'w1', groupId: 'g1' } as const;
const GLOBAL = { kind: 'global' } as const;

test('moveSecret: value, id, pin and createdAt kept; old record gone; lookups follow the scope', async () => {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir, HOME: dir };
  const vault = await openVault({ env });
  const created = await vault.createSecret('OPENAI_API_KEY', SENTINEL);
  const moved = await vault.moveSecret('OPENAI_API_KEY', GLOBAL, W1);
  assert.equal(moved.id, created.id);
  assert.equal(moved.pinnedProvider, 'openai');
  assert.equal(moved.createdAt, created.createdAt);
  assert.equal(fs.existsSync(created.file), false, 'the global record must be gone');
  const again = await openVault({ env });
  assert.equal(again.secretExists('OPENAI_API_KEY', {}), false, 'no longer global');
  assert.equal(await again.getSecretValue('OPENAI_API_KEY', { workspaceId: 'w1' }), SENTINEL);
  assert.equal(await again.getSecretValue('OPENAI_API_KEY', { workspaceId: 'w1', groupId: 'g1' }), SENTINEL, 'group runs fall back to the workspace');
  for (const f of fs.readdirSync(path.join(dir, 'secrets'))) {
    assert.equal(fs.readFileSync(path.join(dir, 'secrets', f)).includes(SENTINEL), false);
  }
  await again.moveSecret('OPENAI_API_KEY', W1, G1);
  await again.moveSecret('OPENAI_API_KEY', G1, GLOBAL);
  assert.equal(await (await openVault({ env })).getSecretValue('OPENAI_API_KEY'), SENTINEL);
});

test('moveSecret: the moved record is bound to its new scope (copying it back by hand fails decryption)', async () => {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir, HOME: dir };
  const vault = await openVault({ env });
  const created = await vault.createSecret('MY_TOKEN', SENTINEL);
  const moved = await vault.moveSecret('MY_TOKEN', GLOBAL, W1);
  fs.copyFileSync(moved.file, created.file); // put the workspace record where the global one lived
  const v2 = await openVault({ env });
  await assert.rejects(v2.getSecretValue('MY_TOKEN'), (e: unknown) => e instanceof AivaultError && e.code === 'vault_corrupt');
  assert.equal(await v2.getSecretValue('MY_TOKEN', { workspaceId: 'w1' }), SENTINEL, 'the real record still works');
});

test('moveSecret refuses a missing source, an occupied target and a no-op', async () => {
  const dir = tempVaultDir();
  const vault = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
  await assert.rejects(vault.moveSecret('NOPE', GLOBAL, W1), (e: unknown) => e instanceof AivaultError && e.code === 'secret_not_found');
  await vault.createSecret('A_KEY', 'one');
  await vault.createSecret('A_KEY', 'two', { scope: W1 });
  await assert.rejects(vault.moveSecret('A_KEY', GLOBAL, W1), (e: unknown) => e instanceof AivaultError && e.code === 'secret_exists');
  await assert.rejects(vault.moveSecret('A_KEY', W1, W1), (e: unknown) => e instanceof AivaultError && e.code === 'usage');
  assert.equal(await vault.getSecretValue('A_KEY'), 'one', 'nothing changed');
  assert.equal(await vault.getSecretValue('A_KEY', { workspaceId: 'w1' }), 'two');
});

test('CLI: secrets attach/detach move a secret, print no value, and exec honours the scope', async () => {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir, HOME: dir };
  assert.equal((await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env, input: SENTINEL + '\n' })).code, 0);
  const a = await runCli(['secrets', 'attach', '--name', 'OPENAI_API_KEY', '--workspace-id', 'w1'], { env });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /moved OPENAI_API_KEY from global to workspace:w1/);
  const list = await runCli(['secrets', 'list'], { env });
  assert.match(list.stdout, /OPENAI_API_KEY\s+workspace:w1\s+openai/);
  // a run outside the workspace has no key; inside it, it does
  const outside = await runCli(['exec', '--allow', 'openai/chat-completions', '--', 'true'], { env });
  assert.equal(outside.code, 125);
  const inside = await runCli(['exec', '--workspace-id', 'w1', '--allow', 'openai/chat-completions', '--', 'true'], { env });
  assert.equal(inside.code, 0, inside.stderr);
  const d = await runCli(['secrets', 'detach', '--name', 'OPENAI_API_KEY', '--workspace-id', 'w1'], { env });
  assert.equal(d.code, 0, d.stderr);
  const back = await runCli(['exec', '--allow', 'openai/chat-completions', '--', 'true'], { env });
  assert.equal(back.code, 0, back.stderr);
  const bad = await runCli(['secrets', 'attach', '--name', 'OPENAI_API_KEY'], { env });
  assert.equal(bad.code, 2);
  const audit = await runCli(['audit', '--json'], { env });
  assert.match(audit.stdout, /secret\.moved/);
  for (const r of [a, list, outside, inside, d, back, bad, audit]) assert.equal((r.stdout + r.stderr).includes(SENTINEL), false);
});
