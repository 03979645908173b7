/**
 * SPEC §7/§7a: exactly one `request` line per request the broker received, also when the caller
 * aborts mid-upload or mid-download (`client_aborted`, bytes so far), also for requests refused
 * before a token was found (they carry the broker's run id), also for requests still open when
 * the broker closes; and fail closed: once the audit log cannot be written, 503
 * `audit_unavailable` and nothing more reaches the upstream.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startBroker, type Broker } from '../../src/broker/index.js';
import { openAuditLog } from '../../src/audit/log.js';
import { startFakeProvider, reply, type FakeProvider } from '../helpers/fake-provider.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { SENTINEL, call } from './setup.js';

const RUN = 'run-audit-lines';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let provider: FakeProvider;
before(async () => {
  provider = await startFakeProvider();
});
after(() => provider.close());

async function brokerWith(audit = memoryAudit()): Promise<{ broker: Broker; audit: typeof audit; token: string }> {
  const broker = await startBroker({ catalog: testCatalog({ secrets: { ...SENTINEL } }), audit, env: provider.devEnv(), runId: RUN });
  const token = broker.mintToken({ runId: RUN, capabilities: ['openai/*'] });
  return { broker, audit, token };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(10);
  }
}

const requestLines = (a: ReturnType<typeof memoryAudit>) => a.events.filter((e) => e.event === 'request');

test('refused before a token was found: the line carries the run id', async () => {
  const { broker, audit, token } = await brokerWith();
  try {
    await call(broker, 'GET', '/v/openai/v1/models'); // token_missing
    await call(broker, 'GET', '/v/openai/v1/models', { headers: { authorization: 'Bearer ' + 'x'.repeat(43) } }); // token_invalid
    await call(broker, 'GET', '/nowhere', { headers: { authorization: `Bearer ${token}` } }); // unknown endpoint
    await call(broker, 'GET', '/v/openai/v1/models', { host: 'evil.example:80' }); // remote_client_rejected
    const lines = requestLines(audit);
    assert.deepEqual(lines.map((e) => e.code), ['token_missing', 'token_invalid', 'invalid_request', 'remote_client_rejected']);
    for (const l of lines) assert.equal(l.runId, RUN);
    assert.deepEqual(broker.runStats(RUN), { requests: 4, denied: 4 });
    assert.ok(!JSON.stringify(audit.events).includes(token));
  } finally {
    await broker.close();
  }
});

test('client aborts mid-download: one client_aborted line with the bytes sent so far', async () => {
  const { broker, audit, token } = await brokerWith();
  provider.reset();
  provider.on('GET', '/v1/models', reply.chunked(Array.from({ length: 50 }, () => 'x'.repeat(1000)), { delayMs: 20 }));
  try {
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: broker.port, path: '/v/openai/v1/models', headers: { authorization: `Bearer ${token}` }, agent: false },
        (res) => {
          let got = 0;
          res.on('data', (b: Buffer) => {
            got += b.length;
            if (got >= 3000) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    await waitFor(() => requestLines(audit).length === 1);
    await sleep(300); // no second line turns up later
    const lines = requestLines(audit);
    assert.equal(lines.length, 1);
    const l = lines[0]!;
    assert.equal(l.code, 'client_aborted');
    assert.equal(l.status, 200, 'the status the caller had already received');
    assert.equal(l.decision, 'allow');
    assert.equal(l.runId, RUN);
    assert.equal(l.capability, 'openai/models');
    assert.ok((l.bytes as number) >= 3000 && (l.bytes as number) < 50_000, `bytes ${String(l.bytes)}`);
  } finally {
    await broker.close();
  }
});

test('client aborts mid-upload: one client_aborted line with the request bytes so far', async () => {
  const { broker, audit, token } = await brokerWith();
  provider.reset();
  try {
    for (const mode of ['content-length', 'chunked'] as const) {
      const before = requestLines(audit).length;
      await new Promise<void>((resolve) => {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        if (mode === 'content-length') headers['content-length'] = String(1024 * 1024);
        else headers['transfer-encoding'] = 'chunked';
        const req = http.request({ host: '127.0.0.1', port: broker.port, method: 'POST', path: '/v/openai/v1/chat/completions', headers, agent: false });
        req.on('error', () => undefined);
        req.write(Buffer.alloc(64 * 1024, 0x61));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 150);
      });
      await waitFor(() => requestLines(audit).length === before + 1);
      await sleep(200);
      const lines = requestLines(audit).slice(before);
      assert.equal(lines.length, 1, mode);
      assert.equal(lines[0]!.code, 'client_aborted', mode);
      assert.equal(lines[0]!.runId, RUN);
      assert.equal(lines[0]!.status, 499);
      assert.ok((lines[0]!.requestBytes as number) >= 64 * 1024, `${mode}: requestBytes ${String(lines[0]!.requestBytes)}`);
    }
  } finally {
    await broker.close();
  }
});

test('requests still open when the broker closes get their line before close() resolves', async () => {
  const { broker, audit, token } = await brokerWith();
  provider.reset();
  provider.on('GET', '/v1/models', reply.hang());
  const pending = call(broker, 'GET', '/v/openai/v1/models', { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  await waitFor(() => provider.requests.length === 1);
  await broker.close();
  const lines = requestLines(audit);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.code, 'client_aborted');
  await pending;
});

test('one line per request across a mix of outcomes', async () => {
  const { broker, audit, token } = await brokerWith();
  provider.reset();
  provider.on('POST', '/v1/chat/completions', reply.sse([{ a: 1 }, { b: 2 }]));
  const auth = { authorization: `Bearer ${token}` };
  try {
    const jobs: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      const k = i % 4;
      if (k === 0) jobs.push(call(broker, 'GET', '/v/openai/v1/models', { headers: auth }));
      else if (k === 1) jobs.push(call(broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth, body: '{}' }));
      else if (k === 2) jobs.push(call(broker, 'DELETE', '/v/openai/v1/models', { headers: auth }));
      else jobs.push(call(broker, 'GET', '/v/openai/v1/../../etc', { headers: auth }));
    }
    await Promise.all(jobs);
    await sleep(50);
    assert.equal(requestLines(audit).length, 40);
    assert.deepEqual(broker.runStats(RUN), { requests: 40, denied: 20 });
  } finally {
    await broker.close();
  }
});

test('audit log unwritable mid-run: 503 audit_unavailable, and the upstream sees nothing after the failure', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-failclosed-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let broken = false;
  const log = openAuditLog({
    dir,
    groupCommit: { maxLines: 1, intervalMs: 10 },
    io: {
      writeSync(fd, buf, off, len) {
        if (broken) throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
        return fs.writeSync(fd, buf, off, len);
      },
    },
  });
  const failures: Error[] = [];
  log.onFailure((e) => failures.push(e));
  const broker = await startBroker({ catalog: testCatalog({ secrets: { ...SENTINEL } }), audit: log, env: provider.devEnv(), runId: RUN });
  const token = broker.mintToken({ runId: RUN, capabilities: ['openai/*'] });
  const auth = { authorization: `Bearer ${token}` };
  provider.reset();
  try {
    const ok = await call(broker, 'GET', '/v/openai/v1/models', { headers: auth });
    assert.equal(ok.status, 200);
    broken = true;
    const second = await call(broker, 'GET', '/v/openai/v1/models', { headers: auth }); // served; its line is the one that fails
    assert.equal(second.status, 200);
    assert.equal(failures.length, 1, 'the failed group was noticed');
    const seen = provider.requests.length;
    for (const [m, p, body] of [
      ['GET', '/v/openai/v1/models', undefined],
      ['POST', '/v/openai/v1/chat/completions', '{}'],
      ['POST', '/aivault/proxy', JSON.stringify({ capability: 'openai/models', request: { method: 'GET', path: '/v1/models' } })],
    ] as const) {
      const r = await call(broker, m, p, { headers: auth, ...(body !== undefined ? { body } : {}) });
      assert.equal(r.status, 503, `${m} ${p}`);
      assert.equal(r.headers['x-aivault-error'], 'audit_unavailable');
      assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'audit_unavailable');
    }
    await sleep(100);
    assert.equal(provider.requests.length, seen, 'no upstream request after the failure');
    // the last attempt, once the disk is back, writes every line kept, the refusals included
    broken = false;
    log.flushSync();
    const text = fs.readdirSync(path.join(dir, 'audit')).map((f) => fs.readFileSync(path.join(dir, 'audit', f), 'utf8')).join('');
    const codes = text.trim().split('\n').map((l) => (JSON.parse(l) as { code: string | null }).code);
    assert.deepEqual(codes, [null, null, 'audit_unavailable', 'audit_unavailable', 'audit_unavailable']);
  } finally {
    await broker.close();
  }
});
