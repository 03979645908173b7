/**
 * Fault injection: a broken upstream (reset mid-stream, malformed HTTP, never answers), an
 * unwritable audit log, a SIGKILLed launcher, a corrupted vault file between runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { startBroker } from '../../src/broker/index.js';
import { startFakeProvider, reply, type FakeProvider } from '../helpers/fake-provider.js';
import { leafCert, TEST_CA_PATH } from '../helpers/tls.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { setup, call, SENTINEL, leaks } from '../broker/setup.js';
import { attack, assertNoLeak, ATTACKER, BIN, makeLab, sentinel, type Lab } from './helpers/harness.js';
import { waitGone } from '../exec/launch.js';

let provider: FakeProvider;
let lab: Lab;
before(async () => {
  provider = await startFakeProvider();
  lab = await makeLab(provider, { OPENAI_API_KEY: sentinel('openai'), ANTHROPIC_API_KEY: sentinel('anthropic') });
});
after(async () => {
  lab.cleanup();
  await provider.close();
});

const tokenFor = (caps: string[]) => ({ runId: 'fault', capabilities: caps });
const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });

test('upstream resets mid-stream: the caller sees a truncated response (never a fake success), the broker keeps serving', async () => {
  const env = await setup({ provider });
  provider.reset();
  try {
    const t = env.broker.mintToken(tokenFor(['openai/chat-completions', 'openai/models']));
    provider.on('POST', '/v1/chat/completions', reply.resetAfter(`partial ${SENTINEL.OPENAI_API_KEY.slice(0, 5)}`));
    const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth(t), body: '{}' }).then(
      (x) => ({ ok: true as const, x }),
      (e: Error) => ({ ok: false as const, e }),
    );
    if (r.ok) assert.fail(`a reset upstream must not end in a complete response: ${r.x.status} ${r.x.body}`);
    const after = await call(env.broker, 'GET', '/v/openai/v1/models', { headers: auth(t) });
    assert.equal(after.status, 200);
    const ev = env.audit.events.find((e) => e.path === '/v1/chat/completions');
    assert.equal(ev?.code, 'upstream_error');
    assert.deepEqual(leaks(JSON.stringify(env.audit.events)), []);
  } finally {
    await env.close();
  }
});

/** A TLS server (test certificate) that answers every request with `bytes` and closes. */
async function garbageUpstream(bytes: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer(leafCert(), (s) => {
    s.once('data', () => {
      s.end(bytes);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

test('malformed upstream HTTP: 502 upstream_error, nothing of it relayed', async () => {
  const cases = [
    'garbage\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 2\r\n\r\nhi',
    'HTTP/1.1 999999 Weird\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot chunked\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort',
  ];
  for (const bytes of cases) {
    const up = await garbageUpstream(bytes);
    const broker = await startBroker({
      catalog: testCatalog({ secrets: { OPENAI_API_KEY: SENTINEL.OPENAI_API_KEY } }),
      audit: memoryAudit(),
      env: { AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${up.port}`, AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH },
    });
    try {
      const t = broker.mintToken(tokenFor(['openai/chat-completions']));
      const r = await call(broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth(t), body: '{}' }).then(
        (x) => x,
        () => undefined, // connection dropped mid-body: acceptable (truncation is visible)
      );
      if (r) {
        if (r.status === 200) assert.notEqual(r.body, 'short'.padEnd(100), 'truncated body is not completed');
        else {
          assert.equal(r.status, 502, `${JSON.stringify(bytes)} → ${r.status} ${r.body}`);
          assert.equal(r.headers['x-aivault-error'], 'upstream_error');
        }
        assert.doesNotMatch(r.body, /garbage|Weird/);
      }
    } finally {
      await broker.close();
      await up.close();
    }
  }
});

test('an upstream that never answers: capability timeout → 504, idle timeout → 504', async () => {
  provider.reset();
  const slow = { id: 'openai/slow', provider: 'openai', methods: ['POST'], pathPrefixes: ['/v1/slow'], hosts: ['api.openai.com'], custom: true, limits: { timeoutMs: 300 } };
  provider.on('POST', '/v1/slow', reply.hang());
  provider.on('POST', '/v1/chat/completions', reply.hang());
  const broker = await startBroker({
    catalog: testCatalog({ secrets: { OPENAI_API_KEY: SENTINEL.OPENAI_API_KEY }, capabilities: [slow] }),
    audit: memoryAudit(),
    env: provider.devEnv(),
    idleTimeoutMs: 500,
  });
  try {
    const t = broker.mintToken(tokenFor(['openai/slow', 'openai/chat-completions']));
    const started = Date.now();
    const a = await call(broker, 'POST', '/v/openai/v1/slow', { headers: auth(t), body: '{}' });
    assert.equal(a.status, 504);
    assert.equal(a.headers['x-aivault-error'], 'upstream_timeout');
    const b = await call(broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth(t), body: '{}' });
    assert.equal(b.status, 504);
    assert.equal(b.headers['x-aivault-error'], 'upstream_timeout');
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await broker.close();
  }
});

test('audit log unwritable: the run fails closed (125, one line naming the audit file, no child, no upstream request)', async () => {
  const auditDir = path.join(lab.dir, 'audit');
  fs.rmSync(auditDir, { recursive: true, force: true });
  fs.writeFileSync(auditDir, 'not a directory');
  try {
    provider.reset();
    const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts: [{ name: 'x', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}' }] } });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /aivault: cannot write audit log .*audit.*refusing to run without an audit trail/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(provider.requests.length, 0, 'the child must never have run');
    assertNoLeak(r.observed, lab.secrets);
  } finally {
    fs.rmSync(auditDir, { force: true });
  }
});

test('launcher killed with SIGKILL: the broker, every token and the child die with it', async (t) => {
  const work = fs.mkdtempSync(path.join(lab.home, 'kill-'));
  const tokenFile = path.join(work, 'token.json');
  const planFile = path.join(work, 'plan.json');
  fs.writeFileSync(planFile, JSON.stringify({ tokenFile, waitFor: path.join(work, 'never') }));
  const launcher = spawn(process.execPath, [BIN, 'exec', '--allow', 'openai/chat-completions', '--', process.execPath, ATTACKER, planFile, path.join(work, 'seen.json')], {
    env: { PATH: process.env.PATH ?? '', ...lab.env() },
    stdio: 'ignore',
  });
  let childPid = 0;
  try {
    const until = Date.now() + 15_000;
    while (!fs.existsSync(tokenFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    const info = JSON.parse(fs.readFileSync(tokenFile, 'utf8')) as { token: string; baseUrl: string; pid: number };
    childPid = info.pid;
    const port = Number(new URL(info.baseUrl).port);
    launcher.kill('SIGKILL');
    await new Promise((r) => launcher.once('exit', r));
    const res = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.end(`POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${info.token}\r\nContent-Length: 0\r\n\r\n`);
        s.once('data', (d) => resolve(String(d).split('\r\n')[0]!));
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(res, 'ECONNREFUSED');
    // the launcher-death watchdog (src/exec/watchdog.ts) kills the child's process group
    const gone = await waitGone(childPid);
    t.diagnostic(`after SIGKILL of the launcher the child is ${gone ? 'gone' : 'still running'}`);
    assert.ok(gone, 'the child outlived a SIGKILLed launcher');
  } finally {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    // if the defence failed, the orphaned child is ours to clean up
    if (childPid) {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('a vault secret file corrupted between runs: the broker answers vault_locked, nothing goes upstream, exec exits 125 with one clear line; other secrets keep working', async () => {
  const secretsDir = path.join(lab.dir, 'secrets');
  const files = fs.readdirSync(secretsDir);
  const openaiFile = files.find((f) => fs.readFileSync(path.join(secretsDir, f), 'utf8').includes('"OPENAI_API_KEY"'));
  assert.ok(openaiFile, `cannot find the OPENAI_API_KEY record among ${files.join(', ')}`);
  const full = path.join(secretsDir, openaiFile);
  const original = fs.readFileSync(full);
  try {
    const bytes = Buffer.from(original);
    const i = Math.floor(bytes.length / 2);
    bytes[i] = bytes[i]! ^ 0x20;
    fs.writeFileSync(full, bytes);
    provider.reset();
    const bad = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts: [{ name: 'x', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}' }] } });
    assert.equal(bad.code, 125, bad.stderr);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(bad.stderr, /this run exits 125/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    // The record is decrypted while the command boots (README "Start-up"): the command ran, and
    // its request was refused by the broker, not sent.
    assert.equal(bad.result('x').status, 503, bad.result('x').raw.slice(0, 300));
    assert.match(bad.result('x').body, /"vault_locked"/);
    assert.equal(provider.requests.length, 0, 'nothing reached the upstream');
    const good = await attack(lab, { allow: ['anthropic/messages'], plan: { attempts: [{ name: 'y', method: 'POST', target: '/v/anthropic/v1/messages', body: '{}' }] } });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.result('y').status, 200);
    assert.equal(provider.requests.length, 1);
    assertNoLeak(bad.observed + good.observed, lab.secrets);
  } finally {
    fs.writeFileSync(full, original);
  }
});
