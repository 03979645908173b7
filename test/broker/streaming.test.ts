/** Response streaming, sanitising and redaction; upstream failures; provider auth placements. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { reply } from '../helpers/fake-provider.js';
import { ACME, setup, call, leaks, SENTINEL, type Env } from './setup.js';
import type { Capability, Credential } from '../../src/registry/types.js';

const ACME_KEY = 'acme-SENTINEL-key-42';
const CAPS: Capability[] = [
  { id: 'acme/data', provider: 'acme', methods: ['GET', 'POST'], pathPrefixes: ['/data'], hosts: ['api.example-custom.test'], custom: true },
  { id: 'acme/slow', provider: 'acme', methods: ['GET'], pathPrefixes: ['/slow'], hosts: ['api.example-custom.test'], custom: true, limits: { timeoutMs: 300 } },
  { id: 'acme/capped', provider: 'acme', methods: ['GET'], pathPrefixes: ['/capped'], hosts: ['api.example-custom.test'], custom: true, limits: { maxResponseBytes: 1000 } },
];
const CREDS: Credential[] = [{ id: 'acme', provider: 'acme', secrets: { secret: 'ACME_KEY' }, auth: ACME.auth, hosts: ['api.example-custom.test'], custom: true }];

let env: Env;
let token: string;
before(async () => {
  env = await setup({ secrets: { ...SENTINEL, ACME_KEY }, providers: [ACME], capabilities: CAPS, credentials: CREDS });
  token = env.broker.mintToken({
    runId: 'stream-run',
    capabilities: ['acme/*', 'openai/chat-completions', 'gemini/models', 'telegram/send-message', 'github/repos'],
  });
});
after(() => env.close());

const auth = () => ({ authorization: `Bearer ${token}` });
const ALL_SECRETS = [...Object.values(SENTINEL), ACME_KEY];
function noSecret(text: string): void {
  for (const s of ALL_SECRETS) assert.equal(text.includes(s), false, 'secret leaked to the caller');
  assert.deepEqual(leaks(text), []);
}

test('SSE: each event reaches the caller before the upstream sends the next (no buffering)', async () => {
  env.provider.reset();
  const gates: Array<() => void> = [];
  const waitGate = (i: number) => new Promise<void>((r) => (gates[i] = r));
  const seenGate: Array<Promise<void>> = [0, 1, 2].map((i) => waitGate(i));
  env.provider.on('POST', '/v1/chat/completions', async (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < 3; i++) {
      res.write(`data: {"n":${i}}\n\n`);
      // the next event is only written once the caller has received this one
      await Promise.race([seenGate[i], new Promise((r) => setTimeout(r, 5000))]);
    }
    res.end('data: [DONE]\n\n');
  });
  const received: string[] = [];
  const order: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: env.broker.port, method: 'POST', path: '/v/openai/v1/chat/completions', headers: { ...auth(), 'content-type': 'application/json' } },
      (res) => {
        assert.equal(res.headers['content-type'], 'text/event-stream');
        let buf = '';
        res.on('data', (b: Buffer) => {
          buf += b.toString();
          let k;
          while ((k = buf.indexOf('\n\n')) !== -1) {
            const ev = buf.slice(0, k);
            buf = buf.slice(k + 2);
            received.push(ev);
            const m = /"n":(\d)/.exec(ev);
            if (m) {
              order.push(`got ${m[1]}`);
              gates[Number(m[1])]?.();
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      },
    );
    req.end('{"stream":true}');
  });
  assert.deepEqual(received, ['data: {"n":0}', 'data: {"n":1}', 'data: {"n":2}', 'data: [DONE]']);
  assert.deepEqual(order, ['got 0', 'got 1', 'got 2']);
});

test('chunked response arrives in pieces, in order', async () => {
  env.provider.reset();
  env.provider.on('GET', '/data/chunks', reply.chunked(['alpha-', 'beta-', 'gamma'], { delayMs: 40 }));
  const pieces: Array<{ t: number; s: string }> = [];
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    http.get({ host: '127.0.0.1', port: env.broker.port, path: '/v/acme/data/chunks', headers: auth() }, (res) => {
      res.on('data', (b: Buffer) => pieces.push({ t: Date.now() - t0, s: b.toString() }));
      res.on('end', resolve);
    });
  });
  assert.equal(pieces.map((p) => p.s).join(''), 'alpha-beta-gamma');
  assert.ok(pieces.length >= 2, 'more than one piece: the body was not buffered whole');
  assert.equal(pieces[0]!.s.startsWith('alpha'), true);
});

test('secret reflected in body (split across chunk borders) and in headers is redacted', async () => {
  env.provider.reset();
  env.provider.on('GET', '/data/reflect', reply.reflect((q) => String(q.headers['x-acme-key']), { chunkSize: 3, headerNames: ['x-echo-secret', 'location'] }));
  const r = await call(env.broker, 'GET', '/v/acme/data/reflect', { headers: auth() });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'before [REDACTED] middle [REDACTED] after');
  assert.equal(r.headers['x-echo-secret'], 'value=[REDACTED]');
  noSecret(JSON.stringify(r));
  // the upstream did get the real key
  assert.equal(env.provider.requests[0]!.headers['x-acme-key'], ACME_KEY);
});

test('openai key reflected with its Bearer form and URL-encoded is redacted', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/chat/completions', reply.reflect((q) => `${q.headers.authorization} ${encodeURIComponent(SENTINEL.OPENAI_API_KEY)}`, { chunkSize: 5 }));
  const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', { headers: auth(), body: '{}' });
  assert.equal(r.status, 200);
  noSecret(JSON.stringify(r));
  assert.match(r.body, /REDACTED/);
});

for (const encoding of ['gzip', 'deflate', 'br'] as const) {
  test(`${encoding} body is decoded, redacted, and content-encoding dropped`, async () => {
    env.provider.reset();
    env.provider.on('GET', '/data/z', reply.gzipJson({ leaked: ACME_KEY, again: `k=${ACME_KEY}`, pad: 'x'.repeat(3000) }, { pieces: 7, encoding }));
    const r = await call(env.broker, 'GET', '/v/acme/data/z', { headers: { ...auth(), 'accept-encoding': 'gzip, br' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], undefined);
    const j = JSON.parse(r.body) as { leaked: string; again: string };
    assert.equal(j.leaked, '[REDACTED]');
    assert.equal(j.again, 'k=[REDACTED]');
    noSecret(r.body);
    // the broker asked for identity, not the caller's accept-encoding
    assert.equal(env.provider.requests[0]!.headers['accept-encoding'], 'identity');
  });
}

test('response auth-class and cookie headers are stripped', async () => {
  env.provider.reset();
  env.provider.on(
    'GET',
    '/data/cookies',
    reply.json(200, { ok: true }, { 'set-cookie': ['a=1', 'b=2'], authorization: 'Bearer x', 'x-api-key': 'k', 'api-key': 'k', 'x-keep': 'yes' }),
  );
  const r = await call(env.broker, 'GET', '/v/acme/data/cookies', { headers: auth() });
  assert.equal(r.status, 200);
  for (const h of ['set-cookie', 'authorization', 'x-api-key', 'api-key']) assert.equal(r.headers[h], undefined, h);
  assert.equal(r.headers['x-keep'], 'yes');
});

test('redirects are returned as they are and never followed', async () => {
  env.provider.reset();
  env.provider.on('GET', '/data/redirect', reply.redirect('https://other.example-custom.test/steal'));
  const r = await call(env.broker, 'GET', '/v/acme/data/redirect', { headers: auth() });
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'https://other.example-custom.test/steal');
  assert.equal(env.provider.requests.length, 1, 'not followed');
});

test('upstream reset before the headers → 502 upstream_error, generic message', async () => {
  env.provider.reset();
  env.provider.on('GET', '/data/reset', (_q, res) => void res.socket?.destroy());
  const r = await call(env.broker, 'GET', '/v/acme/data/reset', { headers: auth() });
  assert.equal(r.status, 502);
  assert.equal(r.headers['x-aivault-error'], 'upstream_error');
  assert.equal(JSON.parse(r.body).error.message, 'the upstream connection failed');
});

test('upstream reset mid-stream → caller connection is cut, audit says upstream_error', async () => {
  env.provider.reset();
  env.provider.on('GET', '/data/midreset', reply.resetAfter('partial-'));
  const before = env.audit.events.length;
  const outcome = await new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: env.broker.port, path: '/v/acme/data/midreset', headers: auth() }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(`end:${body}`));
      res.on('error', () => resolve(`error:${body}`));
      res.on('aborted', () => resolve(`aborted:${body}`));
    }).on('error', () => resolve('req-error'));
  });
  assert.match(outcome, /^(error|aborted|req-error)/, 'the caller must not see a clean end');
  await new Promise((r) => setTimeout(r, 50));
  const line = env.audit.events.slice(before).find((e) => e.event === 'request');
  assert.equal(line?.code, 'upstream_error');
});

test('capability timeout → 504 upstream_timeout', async () => {
  env.provider.reset();
  env.provider.on('GET', '/slow', reply.hang());
  const r = await call(env.broker, 'GET', '/v/acme/slow/1', { headers: auth() });
  assert.equal(r.status, 504);
  assert.equal(r.headers['x-aivault-error'], 'upstream_timeout');
});

test('response size limit cuts the response', async () => {
  env.provider.reset();
  env.provider.on('GET', '/capped', reply.chunked(['x'.repeat(600), 'y'.repeat(600)], { delayMs: 20 }));
  const outcome = await new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: env.broker.port, path: '/v/acme/capped/1', headers: auth() }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => resolve(`end:${n}`));
      res.on('error', () => resolve(`cut:${n}`));
      res.on('aborted', () => resolve(`cut:${n}`));
    }).on('error', () => resolve('cut'));
  });
  assert.match(outcome, /^cut/);
});

test('gemini: the token in ?key= is consumed; upstream gets key=<secret>; other params kept', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'GET', `/v/gemini/v1beta/models?pageSize=5&key=${token}`);
  assert.equal(r.status, 200, r.body);
  const q = env.provider.requests[0]!;
  assert.equal(q.path, '/v1beta/models');
  const params = new URLSearchParams(q.query);
  assert.equal(params.get('key'), SENTINEL.GEMINI_API_KEY);
  assert.equal(params.get('pageSize'), '5');
  assert.equal(params.getAll('key').length, 1);
  assert.equal(q.url.includes(token), false);
  // the echo reply reflects the query: redacted for the caller
  noSecret(r.body);
  // x-goog-api-key slot carries the token too
  env.provider.reset();
  const r2 = await call(env.broker, 'GET', '/v/gemini/v1beta/models', { headers: { 'x-goog-api-key': token } });
  assert.equal(r2.status, 200);
  assert.equal(env.provider.requests[0]!.headers['x-goog-api-key'], undefined);
  assert.equal(new URLSearchParams(env.provider.requests[0]!.query).get('key'), SENTINEL.GEMINI_API_KEY);
});

test('telegram: caller path /sendMessage reaches the upstream as /bot<secret>/sendMessage', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', '/v/telegram/sendMessage', { headers: { ...auth(), 'content-type': 'application/json' }, body: '{"chat_id":1,"text":"hi"}' });
  assert.equal(r.status, 200, r.body);
  const q = env.provider.requests[0]!;
  assert.equal(q.path, `/bot${SENTINEL.TELEGRAM_BOT_TOKEN}/sendMessage`);
  assert.equal(q.body.toString(), '{"chat_id":1,"text":"hi"}');
  noSecret(r.body);
  const audit = env.audit.events.filter((e) => e.event === 'request').at(-1)!;
  assert.equal(audit.path, '/sendMessage');
  assert.equal(audit.capability, 'telegram/send-message');
  noSecret(JSON.stringify(env.audit.events));
});

test('envelope: body, bodyBase64 and query reach the upstream; headers forwarded, hop-by-hop stripped', async () => {
  env.provider.reset();
  const send = (request: unknown) =>
    call(env.broker, 'POST', '/aivault/proxy', { headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ capability: 'acme/data', request }) });
  const r1 = await send({ method: 'POST', path: '/data/items?limit=2', headers: { 'content-type': 'text/plain', 'x-custom': 'v', 'x-forwarded-for': '1.2.3.4', te: 'trailers' }, body: 'hello' });
  assert.equal(r1.status, 200, r1.body);
  const bin = Buffer.from([0, 1, 2, 250, 255]);
  const r2 = await send({ method: 'POST', path: '/data/bin', bodyBase64: bin.toString('base64') });
  assert.equal(r2.status, 200);
  const [a, b] = env.provider.requests;
  assert.equal(a!.url, '/data/items?limit=2');
  assert.equal(a!.body.toString(), 'hello');
  assert.equal(a!.headers['x-custom'], 'v');
  assert.equal(a!.headers['x-acme-key'], ACME_KEY);
  assert.equal(a!.headers['x-forwarded-for'], undefined);
  assert.equal(a!.headers.te, undefined);
  assert.equal(a!.headers.host, 'api.example-custom.test');
  assert.deepEqual(b!.body, bin);
  const line = env.audit.events.filter((e) => e.event === 'request').at(-2)!;
  assert.equal(line.path, '/data/items');
  assert.equal(line.decision, 'allow');
  assert.equal(line.host, 'api.example-custom.test');
});

test('passthrough streams a chunked upload of several MiB', async () => {
  env.provider.reset();
  const size = 6 * 1024 * 1024;
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: env.broker.port, method: 'POST', path: '/v/acme/data/upload', headers: { ...auth(), 'transfer-encoding': 'chunked' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    const piece = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.equal(status, 200);
  assert.equal(env.provider.requests[0]!.body.length, size);
});

test('runStats counts requests and denials of the run', async () => {
  const t = env.broker.mintToken({ runId: 'stats', capabilities: ['acme/data'] });
  await call(env.broker, 'GET', '/v/acme/data/1', { headers: { authorization: `Bearer ${t}` } });
  await call(env.broker, 'GET', '/v/acme/other', { headers: { authorization: `Bearer ${t}` } });
  assert.deepEqual(env.broker.runStats('stats'), { requests: 2, denied: 1 });
  assert.deepEqual(env.broker.runStats('unknown'), { requests: 0, denied: 0 });
  void zlib;
});
