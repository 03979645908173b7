/**
 * Issue 11 item 12: inside a run (AIVAULT_RUN_ID set), a nested `aivault exec` or `invoke` is
 * refused before it opens the vault, with a message pointing at the run's broker.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { BIN, fx, launch, NODE, runCli, tmpDir, vaultWith } from './launch.js';

let fake: FakeProvider;
let vault = '';
let home = '';
before(async () => {
  fake = await startFakeProvider();
  vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-nested-1', GITHUB_TOKEN: 'ghp_SENTINEL_nested_2' });
  home = tmpDir();
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

test('a child running aivault exec / invoke against the real vault is refused; nothing reaches the upstream', async () => {
  const marker = path.join(home, 'nested-marker');
  fake.reset();
  const r = await launch(['--allow', 'github/repos', '--', NODE, fx('nested.mjs'), BIN, vault, marker], { env: { AIVAULT_DIR: vault, HOME: home, ...fake.devEnv() } }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as { exec: { code: number; stderr: string }; invoke: { code: number; stderr: string } };
  assert.equal(out.exec.code, 125, out.exec.stderr);
  assert.match(out.exec.stderr, /aivault exec refused inside a run \(AIVAULT_RUN_ID is set\).*\$AIVAULT_BASE_URL/);
  assert.equal(out.exec.stderr.trim().split('\n').length, 1);
  assert.equal(fs.existsSync(marker), false, 'the nested child never started');
  assert.equal(out.invoke.code, 1, out.invoke.stderr);
  assert.match(out.invoke.stderr, /aivault invoke refused inside a run/);
  assert.equal(fake.requests.length, 0);
});

test('outside a run the same commands work (the refusal keys on AIVAULT_RUN_ID only)', async () => {
  const r = await runCli(['exec', '--allow', 'openai/models', '--', NODE, '-e', ''], { env: { AIVAULT_DIR: vault } });
  assert.equal(r.code, 0, r.stderr);
  const n = await runCli(['exec', '--allow', 'openai/models', '--', NODE, '-e', ''], { env: { AIVAULT_DIR: vault, AIVAULT_RUN_ID: 'outer' } });
  assert.equal(n.code, 125);
  assert.match(n.stderr, /refused inside a run/);
});
