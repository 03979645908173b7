/**
 * Issue 13: exec tests that must not pass vacuously (plain mode only: they depend on the broker
 * being a plain loopback listener and on the Node version, and say so).
 * - a missing --env-file is refused by aivault itself (not by Node 20's own --env-file scan);
 * - a token kept by a surviving grandchild is refused as revoked (token_expired) by the broker while
 *   it is still up, which shutdown alone cannot produce; after exit the broker is gone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { registerSensitive } from '../helpers/suite-registry.js';
import { BIN, fx, launch, NODE, tmpDir, vaultWith, waitForFile } from './launch.js';

let vault = '';
let work = '';

before(async () => {
  vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-revocation-openai-5b1e' });
  work = tmpDir();
});
after(() => {
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const env = () => ({ AIVAULT_DIR: vault });
const ALLOW = ['--allow', 'openai/chat-completions'];

test('a missing --env-file fails before the child starts: aivault exits 125 with its own one-line error', async () => {
  // Node-version dependence, stated: Node 20 scans the WHOLE argv (also after the script name) for
  // --env-file and exits 9 itself when the file is missing, before aivault runs (later Node lines
  // stop at the script). To exercise aivault's own check on every Node version, the CLI is started
  // through a loader that gives aivault its argv without node ever seeing it.
  const marker = path.join(work, 'marker-envfile');
  const missing = path.join(work, 'missing.env');
  const argv = ['exec', ...ALLOW, '--env-file', missing, '--', NODE, fx('exit.mjs'), '0', marker];
  const loader = `const a = JSON.parse(process.env.ARGV_JSON); delete process.env.ARGV_JSON; process.argv.splice(1, Infinity, ${JSON.stringify(BIN)}, ...a); require(${JSON.stringify(BIN)});`;
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const c = spawn(NODE, ['-e', loader], { env: { PATH: process.env.PATH ?? '', HOME: work, ...env(), ARGV_JSON: JSON.stringify(argv) }, cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (b: Buffer) => (stderr += b));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /cannot read env file/);
  assert.ok(r.stderr.includes(missing), 'the message names the file');
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.equal(fs.existsSync(marker), false, 'the child never started');
});

test('a kept token is refused as revoked (token_expired) while the broker is still up, and the broker is gone after exit', async () => {
  // Shutdown alone would also refuse the token (connection refused). To tell revocation from
  // shutdown, a detached grandchild keeps one connection busy through teardown (its first request
  // is held by the fake provider) and sends a second request with the kept token once the broker
  // stops accepting new connections: the broker, still up and answering, must say token_expired.
  const provider = await startFakeProvider();
  const dir = tmpDir('aivault-revoke-');
  let gcPid = 0;
  try {
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    provider.on('POST', '/v1/chat/completions', async (req, res) => {
      if (req.headers['x-probe'] === 'one') await firstHeld;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ probe: req.headers['x-probe'] }));
    });
    const l = launch([...ALLOW, '--', NODE, fx('token-revoke-probe.mjs'), dir], { env: { ...env(), ...provider.devEnv() } });
    gcPid = Number(await waitForFile(path.join(dir, 'grandchild.pid')));
    const until = Date.now() + 20_000;
    while (provider.requests.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(provider.requests.length, 1, 'request 1 reached the provider while the run was live');
    fs.writeFileSync(path.join(dir, 'go'), ''); // the child exits: teardown starts
    await waitForFile(path.join(dir, 'req2-sent'), 20_000);
    releaseFirst();
    const r = await l.done;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(await waitForFile(path.join(dir, 'out.json'), 20_000)) as { raw: string; token: string; baseUrl: string };
    registerSensitive(out.token);
    const heads = [...out.raw.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => ({ status: Number(m[1]), head: m[2]! }));
    assert.equal(heads.length, 2, `two answers on the kept connection: ${out.raw.slice(0, 600)}`);
    assert.equal(heads[0]!.status, 200, 'request 1 was served while the run was live');
    assert.equal(heads[1]!.status, 401, `request 2: ${out.raw.slice(0, 800)}`);
    assert.match(heads[1]!.head, /x-aivault-error: token_(expired|invalid)/i, 'the broker itself answered: the token was revoked, not just the socket closed');
    assert.equal(provider.requests.length, 1, 'request 2 never reached the provider');
    // the refusal is in the audit log, with this run's id, and the token is not
    const lines = fs
      .readdirSync(path.join(vault, 'audit'))
      .flatMap((f) => fs.readFileSync(path.join(vault, 'audit', f), 'utf8').trim().split('\n'))
      .map((x) => JSON.parse(x) as Record<string, unknown>);
    assert.ok(lines.some((x) => x.event === 'request' && /token_(expired|invalid)/.test(String(x.code))), 'the refused request is audited');
    assert.ok(!lines.some((x) => JSON.stringify(x).includes(out.token)), 'no token in the audit log');
    // after the launcher exited the broker is gone as well
    let after: number | 'refused';
    try {
      after = (await fetch(`${out.baseUrl.replace(/\/$/, '')}/v/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${out.token}` }, body: '{}' })).status;
    } catch {
      after = 'refused';
    }
    assert.equal(after, 'refused');
  } finally {
    if (gcPid) {
      try {
        process.kill(gcPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
