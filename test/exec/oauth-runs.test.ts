/**
 * oauth2 refresh across processes with the real vault and CLI: two concurrent `aivault exec` runs
 * both refresh against a token endpoint that rotates (and revokes) refresh tokens, and no refresh
 * token is lost; a launcher SIGKILLed in the middle of a refresh leaves a vault the next run uses.
 * Also: `credential create --auth oauth2 ...` from the CLI, and the child never sees a token.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { launch, runCli, tmpDir, vaultWith, waitForFile, waitGone } from './launch.js';

const HOST = 'api.example-custom.test';
let provider: FakeProvider;
let dir: string;
let work: string;
let currentRefresh = 'rt-SENTINEL-initial-refresh';
let issued = 0;
let tokenDelayMs = 0;
let hangToken = false;
let tokenHits = 0;
const valid = new Set<string>();
const everything: string[] = [currentRefresh, 'cid-SENTINEL-public'];

const CHILD = `
const fs = require('node:fs');
(async () => {
  const out = [];
  for (let i = 0; i < 3; i++) {
    const r = await fetch(process.env.AIVAULT_BASE_URL + '/v/rt/rt/data', { headers: { authorization: 'Bearer ' + process.env.AIVAULT_TOKEN } });
    out.push(r.status + ' ' + (await r.text()));
  }
  out.push(JSON.stringify(process.env));
  fs.writeFileSync(process.argv[1], out.join('\\n'));
})();
`;

before(async () => {
  provider = await startFakeProvider();
  provider.on('POST', '/oauth/token', (req, res) => {
    tokenHits++;
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()));
    if (hangToken) return; // never answers: the launcher gets killed meanwhile
    setTimeout(() => {
      if (form.refresh_token !== currentRefresh) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_grant"}');
        return;
      }
      const access = `at-SENTINEL-${++issued}`;
      currentRefresh = `rt-SENTINEL-rotated-${issued}`;
      everything.push(access, currentRefresh);
      valid.add(access);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: access, token_type: 'bearer', expires_in: 3600, refresh_token: currentRefresh }));
    }, tokenDelayMs);
  });
  provider.on('GET', '/rt', (req, res) => {
    const a = String(req.headers.authorization ?? '');
    const ok = valid.has(a.replace(/^Bearer /, ''));
    res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
    res.end(ok ? `ok ${a}` : 'no');
  });
  dir = await vaultWith({ PUB_ID: 'cid-SENTINEL-public', RT: currentRefresh });
  work = tmpDir('aivault-oauth-runs-');
  const env = { AIVAULT_DIR: dir };
  const c = await runCli(
    ['credential', 'create', 'rt', '--provider', 'acme', '--host', HOST, '--auth', 'oauth2', '--grant', 'refresh_token', '--token-url', `https://${HOST}/oauth/token`, '--client-id-secret', 'PUB_ID', '--refresh-token-secret', 'RT'],
    { env },
  );
  assert.equal(c.code, 0, c.stderr);
  const k = await runCli(['capability', 'create', 'acme/rt', '--provider', 'acme', '--host', HOST, '--method', 'GET', '--path-prefix', '/rt'], { env });
  assert.equal(k.code, 0, k.stderr);
});

after(async () => {
  await provider.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function run(name: string) {
  const out = path.join(work, `${name}.txt`);
  const l = launch(['--allow', 'acme/rt', '--', process.execPath, '-e', CHILD, out], { env: { AIVAULT_DIR: dir, ...provider.devEnv() } });
  return { ...l, out };
}

function assertNoTokens(text: string): void {
  for (const v of everything) assert.equal(text.includes(v), false, 'a secret or token reached the child');
}

test('credential create --auth oauth2: a bad token URL host is a usage error (exit 2)', async () => {
  const r = await runCli(
    ['credential', 'create', 'rt2', '--provider', 'acme', '--host', HOST, '--auth', 'oauth2', '--grant', 'client_credentials', '--token-url', 'https://evil.example.net/t', '--client-id-secret', 'PUB_ID', '--client-secret-secret', 'RT'],
    { env: { AIVAULT_DIR: dir } },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /token-url host/);
});

test('two concurrent runs both refresh with rotation: both succeed, no refresh token is lost', async () => {
  tokenDelayMs = 300;
  const before = tokenHits;
  const a = run('a');
  const b = run('b');
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  for (const o of [a.out, b.out]) {
    const text = fs.readFileSync(o, 'utf8');
    const lines = text.split('\n');
    for (const l of lines.slice(0, 3)) assert.match(l, /^200 ok /, text.slice(0, 300));
    assertNoTokens(text);
  }
  assert.equal(tokenHits - before, 2, 'one refresh per run, serialised');
  // a third run refreshes with what the vault now holds: it is the newest token
  const c = run('c');
  const rc = await c.done;
  assert.equal(rc.code, 0, rc.stderr);
  assert.match(fs.readFileSync(c.out, 'utf8').split('\n')[0]!, /^200 /);
  const audit = fs.readdirSync(path.join(dir, 'audit')).map((f) => fs.readFileSync(path.join(dir, 'audit', f), 'utf8')).join('');
  assertNoTokens(audit);
});

test('SIGKILL of the launcher in the middle of a refresh leaves a usable vault', async () => {
  tokenDelayMs = 0;
  hangToken = true;
  const before = tokenHits;
  const a = run('killed');
  const until = Date.now() + 15_000;
  while (tokenHits === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(tokenHits > before, 'the refresh started');
  a.child.kill('SIGKILL');
  await a.done;
  await waitGone(a.child.pid!);
  hangToken = false;
  const list = await runCli(['secrets', 'list', '--json'], { env: { AIVAULT_DIR: dir } });
  assert.equal(list.code, 0, list.stderr);
  assert.ok(JSON.parse(list.stdout).secrets.some((s: { name: string }) => s.name === "RT"));
  assert.deepEqual(JSON.parse(list.stdout).problems, []);
  const b = run('after-kill');
  const rb = await b.done;
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(fs.readFileSync(b.out, 'utf8').split('\n')[0]!, /^200 /);
  void waitForFile;
});
