/**
 * Per-capability policy in the broker (SPEC §6): 429 after the configured rate, 413 at the
 * configured request size (also a chunked upload, cut at the limit while streaming), 504 at the
 * timeout, and response blocklists on plain, gzip'd and streamed (SSE) JSON. Memory: a 512 MiB
 * upload (cut and passed) and a large JSON array through a blocklist keep the RSS flat (reported as
 * diagnostics; asserted only as "far below the body size").
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { startFakeProvider, reply } from '../helpers/fake-provider.js';
import { leafCert } from '../helpers/tls.js';
import { ACME, setup, call, type Env } from './setup.js';
import type { Capability, Credential } from '../../src/registry/types.js';

const HOST = 'api.example-custom.test';
const BIG = 'other.example-custom.test';
const MiB = 1024 * 1024;
const BLOCK = ['choices[].message.tool_calls', 'data[].email', 'choices[].delta.tool_calls'];
function cap(id: string, prefix: string, extra: Partial<Capability> = {}, hosts = [HOST]): Capability {
  return { id, provider: 'acme', methods: ['GET', 'POST', 'PUT'], pathPrefixes: [prefix], hosts, custom: true, ...extra };
}
const CAPS = [
  cap('acme/rate', '/rate', { limits: { ratePerMinute: 3 } }),
  cap('acme/small', '/small', { limits: { maxRequestBytes: 1000 } }),
  cap('acme/slow', '/slow', { limits: { timeoutMs: 300 } }),
  cap('acme/block', '/block', { blockResponseFields: BLOCK }),
  cap('acme/big-cut', '/big-cut', { limits: { maxRequestBytes: 256 * MiB } }, [BIG]),
  cap('acme/big-ok', '/big-ok', { limits: { maxRequestBytes: 1024 * MiB } }, [BIG]),
  cap('acme/big-json', '/big-json', { blockResponseFields: ['data[].email'] }, [BIG]),
];
const CREDS: Credential[] = [
  { id: 'acme', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: [HOST], custom: true },
  { id: 'acme-big', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: [BIG], custom: true },
];

let env: Env;
let token: string;
let big: https.Server;
let bigReceived = 0;
const JSON_ITEMS = 150_000; // ~13 MiB of JSON

before(async () => {
  big = https.createServer({ ...leafCert() }, (req, res) => {
    if (req.url?.startsWith('/big-json')) {
      // a large JSON array, generated while streaming
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      res.write('{"data":[');
      const more = (): void => {
        while (i < JSON_ITEMS) {
          const s = (i > 0 ? ',' : '') + JSON.stringify({ id: i, email: `user${i}@example.com`, name: 'x'.repeat(40) });
          i++;
          if (!res.write(s)) return void res.once('drain', more);
        }
        res.end('],"total":' + JSON_ITEMS + '}');
      };
      more();
      return;
    }
    req.on('data', (b: Buffer) => (bigReceived += b.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: bigReceived }));
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
  const provider = await startFakeProvider();
  const devEnv = provider.devEnv();
  devEnv.AIVAULT_DEV_RESOLVE = devEnv.AIVAULT_DEV_RESOLVE.split(',').filter((e) => !e.startsWith(BIG)).join(',') + `,${BIG}=127.0.0.1:${(big.address() as AddressInfo).port}`;
  env = await setup({ provider, env: devEnv, secrets: { ACME_KEY: 'acme-SENTINEL-limits' }, providers: [ACME], credentials: CREDS, capabilities: CAPS });
  token = env.broker.mintToken({ runId: 'run-limits', capabilities: CAPS.map((c) => c.id) });
});

after(async () => {
  await env.close();
  await env.provider.close();
  await new Promise<void>((r) => big.close(() => r()));
});

const auth = () => ({ authorization: `Bearer ${token}` });

test('rate: 429 rate_limited after the configured number of requests per minute', async () => {
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await call(env.broker, 'GET', '/v/acme/rate/x', { headers: auth() })).status);
  assert.deepEqual(codes, [200, 200, 200, 429, 429]);
});

test('request size: 413 by content-length and for a chunked upload cut at the limit', async () => {
  const a = await call(env.broker, 'POST', '/v/acme/small/x', { headers: auth(), body: 'x'.repeat(1001) });
  assert.equal(a.status, 413);
  assert.equal(a.headers['x-aivault-error'], 'body_too_large');
  const b = await call(env.broker, 'POST', '/v/acme/small/x', { headers: { ...auth(), 'transfer-encoding': 'chunked' }, body: 'x'.repeat(5000) });
  assert.equal(b.status, 413);
  const ok = await call(env.broker, 'POST', '/v/acme/small/x', { headers: { ...auth(), 'transfer-encoding': 'chunked' }, body: 'x'.repeat(1000) });
  assert.equal(ok.status, 200);
});

test('timeout: 504 upstream_timeout when the upstream does not answer in time', async () => {
  env.provider.on('GET', '/slow', reply.hang());
  const r = await call(env.broker, 'GET', '/v/acme/slow/x', { headers: auth() });
  assert.equal(r.status, 504);
  assert.equal(r.headers['x-aivault-error'], 'upstream_timeout');
});

test('blocklist: fields removed from a JSON response, also gzip-compressed', async () => {
  const body = {
    id: 'c1',
    choices: [{ message: { role: 'assistant', content: 'hi', tool_calls: [{ id: 't', function: { name: 'rm', arguments: '{"path":"/"}' } }] } }],
    data: [{ id: 1, email: 'a@b.c' }, { id: 2, email: 'd@e.f', name: 'N' }],
  };
  env.provider.on('GET', '/block/json', reply.json(200, body));
  const r = await call(env.broker, 'GET', '/v/acme/block/json', { headers: auth() });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { id: 'c1', choices: [{ message: { role: 'assistant', content: 'hi' } }], data: [{ id: 1 }, { id: 2, name: 'N' }] });
  env.provider.on('GET', '/block/gz', reply.gzipJson(body, { pieces: 5 }));
  const g = await call(env.broker, 'GET', '/v/acme/block/gz', { headers: auth() });
  assert.equal(g.body.includes('tool_calls'), false);
  assert.equal(g.body.includes('@'), false);
  assert.deepEqual(JSON.parse(g.body).data, [{ id: 1 }, { id: 2, name: 'N' }]);
});

test('blocklist: tool_calls removed from every event of a streamed (SSE) response', async () => {
  env.provider.on('GET', '/block/sse', reply.sse([{ choices: [{ delta: { content: 'a' } }] }, { choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'exfiltrate' } }] } }] }, { choices: [{ delta: { content: 'b' } }] }], { delayMs: 5 }));
  const r = await call(env.broker, 'GET', '/v/acme/block/sse', { headers: auth() });
  assert.equal(r.status, 200);
  assert.equal(r.body.includes('exfiltrate'), false);
  assert.equal(r.body.includes('tool_calls'), false);
  const events = r.body.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
  assert.deepEqual(events, [{ choices: [{ delta: { content: 'a' } }] }, { choices: [{ delta: {} }] }, { choices: [{ delta: { content: 'b' } }] }]);
  assert.ok(r.body.endsWith('data: [DONE]\n\n'));
});

/** Stream `total` bytes as a chunked upload; returns status and the peak RSS growth seen meanwhile. */
async function upload(path: string, total: number): Promise<{ status: number; code: string | undefined; sent: number; growth: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const chunk = Buffer.alloc(MiB, 0x61);
  let sent = 0;
  const res = await new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: env.broker.port, method: 'PUT', path, agent: false, headers: { host: `127.0.0.1:${env.broker.port}`, ...auth(), 'transfer-encoding': 'chunked' } }, (r) => {
      r.resume();
      r.on('end', () => resolve({ status: r.statusCode ?? 0, code: r.headers['x-aivault-error'] as string | undefined }));
    });
    req.on('error', (e) => (sent >= 256 * MiB ? resolve({ status: 413, code: 'reset-after-limit' }) : reject(e)));
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  clearInterval(sampler);
  return { ...res, sent, growth: peak - rss0 };
}

test('512 MiB chunked upload over a 256 MiB limit: 413 at the limit, memory flat', async (t) => {
  bigReceived = 0;
  const r = await upload('/v/acme-big/big-cut/blob', 512 * MiB);
  t.diagnostic(`cut upload: status ${r.status} (${r.code}), upstream received ${(bigReceived / MiB).toFixed(0)} MiB, peak RSS growth ${(r.growth / MiB).toFixed(1)} MiB`);
  assert.equal(r.status, 413);
  assert.ok(bigReceived <= 256 * MiB, 'the upstream never got more than the limit');
  assert.ok(r.growth < 128 * MiB, `RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
});

test('512 MiB chunked upload within the limit: streamed through, memory flat', async (t) => {
  bigReceived = 0;
  const r = await upload('/v/acme-big/big-ok/blob', 512 * MiB);
  t.diagnostic(`full upload: status ${r.status}, upstream received ${(bigReceived / MiB).toFixed(0)} MiB, peak RSS growth ${(r.growth / MiB).toFixed(1)} MiB`);
  assert.equal(r.status, 200);
  assert.equal(bigReceived, 512 * MiB);
  assert.ok(r.growth < 128 * MiB, `RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`);
});

test('blocklist on a large streamed JSON array: every email removed, memory flat', async (t) => {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  let bytes = 0;
  let emails = 0;
  let tail = '';
  let items = 0;
  const status = await new Promise<number>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: env.broker.port, path: '/v/acme-big/big-json/x', agent: false, headers: { host: `127.0.0.1:${env.broker.port}`, ...auth() } }, (res) => {
        res.on('data', (b: Buffer) => {
          bytes += b.length;
          const s = tail + b.toString('latin1');
          emails += s.split('"email"').length - 1;
          items += s.split('"name"').length - 1;
          tail = s.slice(-16);
          if (tail.includes('"email"')) tail = '';
          if (tail.includes('"name"')) tail = tail.slice(tail.indexOf('"name"') + 6);
        });
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
  clearInterval(sampler);
  t.diagnostic(`large JSON: ${(bytes / MiB).toFixed(1)} MiB out, ${items} items, peak RSS growth ${((peak - rss0) / MiB).toFixed(1)} MiB`);
  assert.equal(status, 200);
  assert.equal(emails, 0);
  assert.ok(items >= JSON_ITEMS - 1, `${items} items`);
  assert.ok(peak - rss0 < 128 * MiB);
});
