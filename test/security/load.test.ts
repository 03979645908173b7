/**
 * Load and slow clients (loopback only, bounded in count and time):
 * - 1 000 concurrent requests through one broker: zero errors, every one reaches the provider,
 *   RSS growth reported (and bounded);
 * - slowloris: hundreds of idle sockets and byte-by-byte header senders do not block others;
 * - an HTTP-level property: 1 000 random hostile paths through the real server, the provider only
 *   ever receives normal-form paths inside the granted prefix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { setup, SENTINEL } from '../broker/setup.js';
import { normalizePath, prefixMatches } from '../../src/policy/path.js';

let provider: FakeProvider;
before(async () => {
  provider = await startFakeProvider();
});
after(async () => {
  await provider.close();
});

function request(port: number, agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('1 000 concurrent requests through one broker: zero errors, bounded memory', async (t) => {
  const env = await setup({ provider });
  provider.reset();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
  try {
    const tok = env.broker.mintToken({ runId: 'load', capabilities: ['openai/chat-completions'] });
    const h = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
    // warm-up (lazy undici load, TLS session)
    await request(env.broker.port, agent, 'POST', '/v/openai/v1/chat/completions', h, '{}');
    (globalThis as { gc?: () => void }).gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => request(env.broker.port, agent, 'POST', '/v/openai/v1/chat/completions', h, JSON.stringify({ i }))),
    );
    clearInterval(sampler);
    const ms = Date.now() - started;
    const errors = results.filter((r) => r.status === 'rejected' || r.value.status !== 200);
    const rss1 = process.memoryUsage().rss;
    t.diagnostic(`1000 concurrent: ${ms} ms, errors ${errors.length}, RSS ${(rss0 / 2 ** 20).toFixed(1)} → peak ${(peak / 2 ** 20).toFixed(1)} → ${(rss1 / 2 ** 20).toFixed(1)} MiB`);
    assert.equal(errors.length, 0, JSON.stringify(errors.slice(0, 3)));
    assert.equal(provider.requests.length, 1001);
    assert.ok(provider.requests.every((q) => q.headers.authorization === `Bearer ${SENTINEL.OPENAI_API_KEY}`));
    assert.ok(peak - rss0 < 512 * 2 ** 20, `RSS grew by ${((peak - rss0) / 2 ** 20).toFixed(1)} MiB`);
    assert.equal(env.audit.events.length, 1001, 'one audit event per request');
  } finally {
    agent.destroy();
    await env.close();
  }
});

test('slowloris: idle sockets and byte-by-byte headers do not block other callers', async (t) => {
  const env = await setup({ provider });
  provider.reset();
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const agent = new http.Agent({ keepAlive: false });
  try {
    const port = env.broker.port;
    const tok = env.broker.mintToken({ runId: 'slow', capabilities: ['openai/chat-completions'] });
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
        sockets.push(s);
      });
    // 300 idle connections
    await Promise.all(Array.from({ length: 300 }, connect));
    // 50 slow senders: a header byte every 50 ms, never finishing
    const slowText = `POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${tok}\r\nX-Slow: ${'a'.repeat(2000)}`;
    for (let k = 0; k < 50; k++) {
      const s = await connect();
      let i = 0;
      const timer = setInterval(() => {
        if (i < slowText.length && !s.destroyed) s.write(slowText[i++]!);
      }, 50);
      timers.push(timer);
    }
    // 3 slow uploads: a declared body that trickles
    for (let k = 0; k < 3; k++) {
      const s = await connect();
      s.write(`POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${tok}\r\nContent-Length: 100000\r\n\r\n{`);
    }
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const h = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
    const rs = await Promise.all(Array.from({ length: 50 }, () => request(port, agent, 'POST', '/v/openai/v1/chat/completions', h, '{}')));
    const ms = Date.now() - started;
    t.diagnostic(`50 requests served in ${ms} ms beside 300 idle + 50 slowloris + 3 slow-upload sockets`);
    assert.ok(rs.every((r) => r.status === 200));
    assert.ok(ms < 10_000, `others were blocked for ${ms} ms`);
  } finally {
    for (const x of timers) clearInterval(x);
    for (const s of sockets) s.destroy();
    agent.destroy();
    await env.close();
  }
});

const SEGS = ['v1', 'chat', 'completions', 'models', '..', '.', '%2e%2e', '%2E', '%2f', '%5c', '%00', '', '%252e', 'completionsX', '%63hat', '..;', '%ef%bc%8e', 'x', '%7e', ';', '@'];

test('HTTP-level property: 1 000 hostile paths through the real server; the provider only gets normal-form granted paths', async () => {
  const env = await setup({ provider });
  provider.reset();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const tok = env.broker.mintToken({ runId: 'hp', capabilities: ['openai/chat-completions'] });
    const h = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
    const pathArb = fc.oneof(
      fc.array(fc.constantFrom(...SEGS), { maxLength: 6 }).map((s) => '/' + s.join('/')),
      fc.array(fc.constantFrom(...SEGS), { maxLength: 3 }).map((s) => '/v1/chat/completions' + s.map((x) => '/' + x).join('')),
    );
    let sent = 0;
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(pathArb, fc.boolean(), async (p, envelope) => {
        sent++;
        const before = provider.requests.length;
        const r = envelope
          ? await request(env.broker.port, agent, 'POST', '/aivault/proxy', h, JSON.stringify({ capability: 'openai/chat-completions', request: { method: 'POST', path: p, body: '{}' } }))
          : await request(env.broker.port, agent, 'POST', `/v/openai${p}`, h, '{}').catch(() => ({ status: 400, body: '' }));
        const got = provider.requests.slice(before);
        if (r.status !== 200) {
          assert.equal(got.length, 0, `refused (${r.status}) but the provider got ${got[0]?.url}`);
          return;
        }
        assert.equal(got.length, 1);
        forwarded++;
        const path = got[0]!.path;
        const n = normalizePath(path);
        assert.ok(n.ok && n.path === path, `not normal form: ${path}`);
        assert.equal(new URL('https://h.example' + path).pathname, path);
        assert.ok(prefixMatches(path, '/v1/chat/completions'), `outside the grant: ${path}`);
      }),
      { numRuns: 1000 },
    );
    assert.equal(sent, 1000);
    assert.ok(forwarded >= 100, `only ${forwarded} of 1000 requests were forwarded`);
  } finally {
    agent.destroy();
    await env.close();
  }
});
