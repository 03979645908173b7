/** `aivault capability policy set|show|clear` stored in the vault and enforced by `aivault exec`'s broker. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeProvider, reply, type FakeProvider } from '../helpers/fake-provider.js';
import { launch, runCli, tmpDir, vaultWith } from '../exec/launch.js';

const HOST = 'api.example-custom.test';
let provider: FakeProvider;
let dir: string;
let work: string;
const env = () => ({ AIVAULT_DIR: dir });

before(async () => {
  provider = await startFakeProvider();
  provider.on('GET', '/data', reply.json(200, { data: [{ id: 1, email: 'secret-person@example.com' }], total: 1 }));
  dir = await vaultWith({ ACME_KEY: 'acme-SENTINEL-policy' });
  work = tmpDir('aivault-policy-');
  for (const args of [
    ['credential', 'create', 'acme', '--provider', 'acme', '--host', HOST, '--secret', 'ACME_KEY', '--auth', 'header', '--header-name', 'x-acme-key', '--value-template', '{{secret}}'],
    ['capability', 'create', 'acme/data', '--provider', 'acme', '--host', HOST, '--method', 'GET', '--path-prefix', '/data'],
  ]) {
    const r = await runCli(args, { env: env() });
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  await provider.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

test('bad input: unknown capability, bad rate, bad size, bad field path, nothing to set → exit 2, one line', async () => {
  for (const args of [
    ['capability', 'policy', 'set', 'acme/nope', '--rate', '1/min'],
    ['capability', 'policy', 'set', 'acme/data', '--rate', 'fast'],
    ['capability', 'policy', 'set', 'acme/data', '--max-request-bytes', '12XB'],
    ['capability', 'policy', 'set', 'acme/data', '--block-response-field', 'a..b'],
    ['capability', 'policy', 'set', 'acme/data'],
    ['capability', 'policy', 'frob', 'acme/data'],
  ]) {
    const r = await runCli(args, { env: env() });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('policy set/show: stored; exec enforces the rate (429) and the response blocklist', async () => {
  const set = await runCli(['capability', 'policy', 'set', 'acme/data', '--rate', '2/min', '--max-request-bytes', '1MiB', '--timeout', '30s', '--block-response-field', 'data[].email'], { env: env() });
  assert.equal(set.code, 0, set.stderr);
  const show = await runCli(['capability', 'policy', 'show', 'acme/data', '--json'], { env: env() });
  assert.deepEqual(JSON.parse(show.stdout), { capability: 'acme/data', limits: { ratePerMinute: 2, maxRequestBytes: 1048576, timeoutMs: 30000 }, blockResponseFields: ['data[].email'] });
  const out = path.join(work, 'out.txt');
  const child = `(async () => { const o = []; for (let i = 0; i < 3; i++) { const r = await fetch(process.env.AIVAULT_BASE_URL + '/v/acme/data/x', { headers: { authorization: 'Bearer ' + process.env.AIVAULT_TOKEN } }); o.push(r.status + ' ' + (await r.text())); } require('fs').writeFileSync(process.argv[1], o.join('\\n')); })()`;
  const l = launch(['--allow', 'acme/data', '--', process.execPath, '-e', child, out], { env: { ...env(), ...provider.devEnv() } });
  const r = await l.done;
  assert.equal(r.code, 0, r.stderr);
  const lines = fs.readFileSync(out, 'utf8').split('\n');
  assert.match(lines[0]!, /^200 /);
  assert.deepEqual(JSON.parse(lines[0]!.slice(4)), { data: [{ id: 1 }], total: 1 });
  assert.match(lines[1]!, /^200 /);
  assert.match(lines[2]!, /^429 .*rate_limited/);
  assert.equal(lines.join('\n').includes('secret-person'), false);
  const clear = await runCli(['capability', 'policy', 'clear', 'acme/data'], { env: env() });
  assert.equal(clear.code, 0, clear.stderr);
  const after = await runCli(['capability', 'policy', 'show', 'acme/data', '--json'], { env: env() });
  assert.deepEqual(JSON.parse(after.stdout), { capability: 'acme/data' });
});
