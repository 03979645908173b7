/**
 * Issue 11 item 14: `aivault invoke` on a capability with several methods or several path
 * prefixes asks for --method / --path, naming the choices, instead of silently picking one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runCli, tempVaultDir } from '../helpers/cli.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

let provider: FakeProvider;
let dir: string;
let env: Record<string, string>;
before(async () => {
  provider = await startFakeProvider();
  dir = tempVaultDir();
  env = { AIVAULT_DIR: dir, ...provider.devEnv() };
  for (const [name, value] of [['OPENAI_API_KEY', 'sk-SENTINEL-choices-1'], ['COHERE_API_KEY', 'co-SENTINEL-choices-2']] as const) {
    const r = await runCli(['secrets', 'create', '--name', name, '--value-stdin'], { env, input: value });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await provider.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('several methods: invoke asks for --method and names them; nothing is sent', async () => {
  provider.reset();
  const r = await runCli(['invoke', 'openai/responses'], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /openai\/responses allows GET, POST: give --method/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(provider.requests.length, 0);
});

test('several path prefixes: invoke asks for --path and names them; nothing is sent', async () => {
  provider.reset();
  const r = await runCli(['invoke', 'cohere/chat', '--body', '{}'], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cohere\/chat covers \/v2\/chat, \/v1\/chat: give --path/);
  assert.equal(provider.requests.length, 0);
});

test('with the choice made, or only one choice, invoke sends', async () => {
  provider.reset();
  const r = await runCli(['invoke', 'openai/responses', '--method', 'POST', '--body', '{}'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(provider.requests[0]!.method, 'POST');
  assert.equal(provider.requests[0]!.path, '/v1/responses');
  const one = await runCli(['invoke', 'openai/models'], { env });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(provider.requests[1]!.method, 'GET');
  assert.equal(provider.requests[1]!.path, '/v1/models');
});
