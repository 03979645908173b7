/**
 * Issue 11 item 14: `aivault invoke` on a capability with several methods or several path
 * prefixes asks for --method / --path, naming the choices, instead of silently picking one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { useCliLab } from '../helpers/cli-lab.js';

const lab = useCliLab({ OPENAI_API_KEY: 'sk-SENTINEL-choices-1', COHERE_API_KEY: 'co-SENTINEL-choices-2' });

test('several methods: invoke asks for --method and names them; nothing is sent', async () => {
  lab.provider.reset();
  const r = await runCli(['invoke', 'openai/responses'], { env: lab.env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /openai\/responses allows GET, POST: give --method/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(lab.provider.requests.length, 0);
});

test('several path prefixes: invoke asks for --path and names them; nothing is sent', async () => {
  lab.provider.reset();
  const r = await runCli(['invoke', 'cohere/chat', '--body', '{}'], { env: lab.env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cohere\/chat covers \/v2\/chat, \/v1\/chat: give --path/);
  assert.equal(lab.provider.requests.length, 0);
});

test('with the choice made, or only one choice, invoke sends', async () => {
  lab.provider.reset();
  const r = await runCli(['invoke', 'openai/responses', '--method', 'POST', '--body', '{}'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lab.provider.requests[0]!.method, 'POST');
  assert.equal(lab.provider.requests[0]!.path, '/v1/responses');
  const one = await runCli(['invoke', 'openai/models'], { env: lab.env });
  assert.equal(one.code, 0, one.stderr);
  assert.equal(lab.provider.requests[1]!.method, 'GET');
  assert.equal(lab.provider.requests[1]!.path, '/v1/models');
});
