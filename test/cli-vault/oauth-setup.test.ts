/**
 * `aivault oauth setup`: PKCE + state, loopback redirect listener and paste fallback, code
 * exchanged at the (fake) token endpoint, refresh token stored in the vault and never printed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { BIN, runCli } from '../helpers/cli.js';
import { vaultWith } from '../exec/launch.js';

const HOST = 'api.example-custom.test';
const REFRESH = 'rt-SENTINEL-from-setup-0001';
let provider: FakeProvider;
let dir: string;
const exchanges: Array<Record<string, string>> = [];

before(async () => {
  provider = await startFakeProvider();
  provider.on('POST', '/oauth/token', (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()));
    exchanges.push(form);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'at-SENTINEL-setup', token_type: 'Bearer', expires_in: 3600, refresh_token: REFRESH }));
  });
  dir = await vaultWith({ PUB_ID: 'cid-SENTINEL-setup' });
  const r = await runCli(
    ['credential', 'create', 'rt', '--provider', 'acme', '--host', HOST, '--auth', 'oauth2', '--grant', 'refresh_token', '--token-url', `https://${HOST}/oauth/token`, '--authorize-url', `https://${HOST}/authorize`, '--client-id-secret', 'PUB_ID', '--refresh-token-secret', 'RT_NEW', '--scope', 'read'],
    { env: { AIVAULT_DIR: dir } },
  );
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await provider.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `oauth setup`, hands the authorization URL to `act`, returns exit code and output. */
function setupRun(args: string[], act: (authUrl: URL, stdin: NodeJS.WritableStream) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'oauth', 'setup', 'rt', ...args], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AIVAULT_DIR: dir, ...provider.devEnv() }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let acted = false;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /(https:\/\/\S+authorize\S*)/.exec(stderr);
      if (m && !acted && /waiting for the redirect|paste the whole redirect URL/.test(stderr)) {
        acted = true;
        act(new URL(m[1]!), child.stdin).catch(reject);
      }
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => http.get(url, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject));
}

test('a redirect with the wrong state is refused (exit 2), nothing stored', async () => {
  const before = exchanges.length;
  const r = await setupRun([], async (u) => {
    const redirect = u.searchParams.get('redirect_uri')!;
    assert.equal(await get(`${redirect}?code=c1&state=forged`), 400);
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /wrong or missing state/);
  assert.equal(exchanges.length, before);
  const list = await runCli(['secrets', 'list', '--json'], { env: { AIVAULT_DIR: dir } });
  assert.equal(JSON.parse(list.stdout).secrets.some((s: { name: string }) => s.name === 'RT_NEW'), false);
});

test('loopback listener: PKCE verifier matches the challenge, the refresh token is stored, never printed', async () => {
  let challenge = '';
  const r = await setupRun([], async (u) => {
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('client_id'), 'cid-SENTINEL-setup');
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(u.searchParams.get('scope'), 'read');
    challenge = u.searchParams.get('code_challenge')!;
    const redirect = u.searchParams.get('redirect_uri')!;
    assert.match(redirect, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.equal(await get(`${redirect}?code=the-code&state=${u.searchParams.get('state')}`), 200);
  });
  assert.equal(r.code, 0, r.stderr);
  const x = exchanges.at(-1)!;
  assert.equal(x.grant_type, 'authorization_code');
  assert.equal(x.code, 'the-code');
  assert.equal(createHash('sha256').update(x.code_verifier!).digest('base64url'), challenge);
  assert.equal((r.stdout + r.stderr).includes(REFRESH), false);
  assert.equal((r.stdout + r.stderr).includes('at-SENTINEL-setup'), false);
  const list = await runCli(['secrets', 'list', '--json'], { env: { AIVAULT_DIR: dir } });
  assert.ok(JSON.parse(list.stdout).secrets.some((s: { name: string }) => s.name === 'RT_NEW'));
});

test('paste fallback (--no-listen): the pasted redirect URL is checked and exchanged; the secret is rotated', async () => {
  const before = exchanges.length;
  const r = await setupRun(['--no-listen'], async (u, stdin) => {
    assert.equal(u.searchParams.get('redirect_uri'), 'http://127.0.0.1/callback');
    stdin.write(`http://127.0.0.1/callback?code=pasted&state=${u.searchParams.get('state')}\n`);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(exchanges.length, before + 1);
  assert.equal(exchanges.at(-1)!.code, 'pasted');
});
