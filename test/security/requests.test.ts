/**
 * Attack catalog, part 2: hostile requests from the child to the broker, written as raw bytes.
 * Each test runs one `aivault exec` whose child tries a family of attacks; every attack must be
 * refused, the provider must receive nothing (or only the positive control), and no form of any
 * secret may appear in anything the child saw.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { attack, assertNoLeak, errorCode, makeLab, sentinel, type AttackResult, type Lab } from './helpers/harness.js';

let provider: FakeProvider;
let lab: Lab;

before(async () => {
  provider = await startFakeProvider();
  lab = await makeLab(provider, {
    OPENAI_API_KEY: sentinel('openai'),
    ANTHROPIC_API_KEY: sentinel('anthropic'),
    GEMINI_API_KEY: sentinel('gemini'),
  });
});
after(async () => {
  lab.cleanup();
  await provider.close();
});
beforeEach(() => provider.reset());

const ALLOW = ['openai/chat-completions', 'anthropic/messages', 'gemini/models'];
const CONTROL = { name: 'control', method: 'POST', target: '/v/openai/v1/chat/completions', headers: [['content-type', 'application/json']] as Array<[string, string]>, body: '{}' };

type A = Record<string, unknown> & { name: string };

function envelope(name: string, env: unknown, extraHeaders: Array<[string, string]> = []): A {
  return { name, method: 'POST', target: '/aivault/proxy', headers: [['content-type', 'application/json'], ...extraHeaders], body: JSON.stringify(env) };
}
const chat = (request: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ capability: 'openai/chat-completions', request: { method: 'POST', ...request }, ...extra });

/** Every attempt except the control: refused with one of `codes`, and nothing upstream but the control. */
function assertRefused(r: AttackResult, names: string[], codes: string[], opts: { allowParser400?: boolean } = {}): void {
  assert.equal(r.code, 0, r.stderr);
  const ctl = r.seen.results.find((x) => x.name === 'control');
  if (ctl) assert.equal(ctl.status, 200, `positive control failed: ${ctl.raw.slice(0, 300)}`);
  for (const name of names) {
    const res = r.result(name);
    const code = errorCode(res.headers);
    if (code === undefined && opts.allowParser400 && (res.status === 400 || res.status === 0)) continue; // node's HTTP parser refused the bytes
    assert.ok(code !== undefined && codes.includes(code), `${name}: expected one of ${codes.join('|')}, got ${res.status} ${code} ${res.raw.slice(0, 200)}`);
  }
  const upstream = provider.requests.map((q) => `${q.method} ${q.url}`);
  assert.deepEqual(upstream, ctl ? ['POST /v1/chat/completions'] : [], 'only the positive control reached the provider');
  assertNoLeak(r.observed, lab.secrets);
}

test('caller auth-class headers (any case) are refused in passthrough and envelope', async () => {
  const p = (name: string, h: Array<[string, string]>, target = '/v/openai/v1/chat/completions', noAuth = false): A => ({ name, method: 'POST', target, headers: h, body: '{}', noAuth });
  const attempts: A[] = [
    CONTROL,
    p('x-api-key', [['X-Api-Key', 'attacker-key']]),
    p('cookie', [['Cookie', 'session=attacker']]),
    p('api-key', [['api-key', 'attacker-key']]),
    p('proxy-authorization', [['Proxy-Authorization', 'Basic YTpi']]),
    p('mixed-case', [['x-API-KEY', 'attacker-key']]),
    p('mixed-cookie', [['CoOkIe', 'a=b']]),
    p('token-in-x-api-key-bearer-elsewhere', [['x-api-key', '{{TOKEN}}'], ['authorization', 'Bearer attacker']], '/v/anthropic/v1/messages', true),
    p('anthropic-own-slot', [['x-api-key', 'attacker-key']], '/v/anthropic/v1/messages?x=1'),
    envelope('env-authorization', chat({ path: '/v1/chat/completions', headers: { Authorization: 'Bearer attacker' } })),
    envelope('env-x-api-key', chat({ path: '/v1/chat/completions', headers: { 'X-API-Key': 'attacker' } })),
    envelope('env-cookie', chat({ path: '/v1/chat/completions', headers: { cookie: 'a=b' } })),
    envelope('env-proxy-authorization', chat({ path: '/v1/chat/completions', headers: { 'proxy-authorization': 'x' } })),
    envelope('env-api-key', chat({ path: '/v1/chat/completions', headers: { 'Api-Key': 'x' } })),
    envelope('env-outer-x-api-key', chat({ path: '/v1/chat/completions' }), [['x-api-key', 'attacker']]),
    envelope('env-outer-cookie', chat({ path: '/v1/chat/completions' }), [['cookie', 'a=b']]),
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assertRefused(r, attempts.slice(1).map((a) => a.name), ['auth_header_rejected']);
});

test("query-auth injection: the caller may not set gemini's key= (or an encoded/variant spelling)", async () => {
  const g = (name: string, q: string): A => ({ name, method: 'GET', target: `/v/gemini/v1beta/models?${q}` });
  const attempts: A[] = [
    g('key', 'key=attacker'),
    g('ke%79', 'ke%79=attacker'),
    g('%6Bey', '%6Bey=attacker'),
    g('KEY', 'KEY=attacker'),
    g('key[]', 'key[]=attacker'),
    g('key-semicolon', 'a=1;key=attacker'),
    g('key-after-token', 'key={{TOKEN}}&key=attacker'),
    g('key-space', 'key%20=attacker'),
    g('key-plus', 'key+=attacker'),
    g('bad-encoding', 'k%e=attacker'),
    envelope('env-key', { capability: 'gemini/models', request: { method: 'GET', path: '/v1beta/models?key=attacker' } }),
    envelope('env-ke%79', { capability: 'gemini/models', request: { method: 'GET', path: '/v1beta/models?ke%79=attacker' } }),
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assertRefused(r, attempts.map((a) => a.name), ['auth_header_rejected', 'invalid_request']);
});

/** Paths that start inside the granted prefix but resolve (or may resolve upstream) outside it. */
export const TRAVERSALS = [
  '/v1/chat/completions/../../../v1/models',
  '/v1/chat/completions/../models',
  '/v1/chat/completions/%2e%2e/%2e%2e/models',
  '/v1/chat/completions/%2E%2e/%2e%2E/models',
  '/v1/chat/completions/.%2e/.%2E/models',
  '/v1/chat/completions/%252e%252e/%252e%252e/models',
  '/v1/chat/completions/..%2f..%2fmodels',
  '/v1/chat/completions%2f..%2f..%2fmodels',
  '/v1/chat/completions/..%5c..%5cmodels',
  '/v1/chat/completions/..\\..\\models',
  '/v1/chat/completions/%00/../models',
  '/v1/chat/completions//../models',
  '//v1/chat/completions',
  '/v1/chat/completions/./x',
  '/v1/chat/completions/..;/..;/models',
  '/v1/chat/completions/%ef%bc%8e%ef%bc%8e/models',
  '/v1/chat/completions/%c0%ae%c0%ae/models',
  '/v1/chat/completions/%2e',
  '/v1/chat/completions/..',
];

test('path traversal and encoding tricks (passthrough and envelope) never reach the provider', async () => {
  const attempts: A[] = [CONTROL];
  TRAVERSALS.forEach((t, i) => {
    attempts.push({ name: `pt-${i}`, method: 'POST', target: `/v/openai${t}`, body: '{}' });
    attempts.push(envelope(`env-${i}`, chat({ path: t, body: '{}' })));
  });
  // raw bytes node's parser itself refuses
  attempts.push({ name: 'raw-nul', raw: 'POST /v/openai/v1/chat/completions\0/../models HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nContent-Length: 0\r\n\r\n' });
  attempts.push({ name: 'raw-space', raw: 'POST /v/openai/v1/chat/completions /../models HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nContent-Length: 0\r\n\r\n' });
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts } });
  assertRefused(
    r,
    attempts.slice(1).map((a) => a.name),
    ['path_traversal', 'invalid_request'],
    { allowParser400: true },
  );
  // the dot-segment cases specifically say path_traversal
  for (let i = 0; i < 4; i++) assert.equal(errorCode(r.result(`pt-${i}`).headers), 'path_traversal');
  for (let i = 0; i < 4; i++) assert.equal(errorCode(r.result(`env-${i}`).headers), 'path_traversal');
});

test('prefix near-misses are not inside the granted prefix', async () => {
  const near = ['/v1/chat/completionsX', '/v1/chat/completions%58', '/v1/chat/completions.json', '/v1/chat/completion', '/V1/chat/completions', '/v1/chat/completions-2', '/v1/chat', '/v1/models', '/', '/v1/chat/completions%3Bx'];
  const attempts: A[] = [CONTROL];
  near.forEach((t, i) => {
    attempts.push({ name: `pt-${i}`, method: 'POST', target: `/v/openai${t}`, body: '{}' });
    attempts.push(envelope(`env-${i}`, chat({ path: t, body: '{}' })));
  });
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts } });
  assertRefused(r, attempts.slice(1).map((a) => a.name), ['capability_not_granted', 'path_not_allowed']);
});

test("the envelope cannot name a destination ('url' anywhere, absolute or scheme-relative paths)", async () => {
  const attempts: A[] = [
    envelope('top-url', { ...chat({ path: '/v1/chat/completions' }), url: 'https://other.example-custom.test/v1/chat/completions' }),
    envelope('req-url', chat({ path: '/v1/chat/completions', url: 'https://other.example-custom.test/' })),
    envelope('abs-path', chat({ path: 'https://other.example-custom.test/v1/chat/completions' })),
    envelope('scheme-relative', chat({ path: '//other.example-custom.test/v1/chat/completions' })),
    envelope('at-host', chat({ path: '@other.example-custom.test/v1/chat/completions' })),
    envelope('host-field', chat({ path: '/v1/chat/completions', host: 'other.example-custom.test' })),
    envelope('host-header', chat({ path: '/v1/chat/completions', headers: { host: 'other.example-custom.test' } }), []),
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assert.equal(errorCode(r.result('top-url').headers), 'policy_violation');
  assert.equal(errorCode(r.result('req-url').headers), 'policy_violation');
  // the Host header in the envelope is stripped (reserved), so that request goes to api.openai.com
  const hostHeader = r.result('host-header');
  assert.equal(hostHeader.status, 200);
  assert.deepEqual(provider.requests.map((q) => [q.servername, q.headers.host]), [['api.openai.com', 'api.openai.com']]);
  provider.requests.length = 0;
  assertRefused(r, ['top-url', 'req-url', 'abs-path', 'scheme-relative', 'at-host', 'host-field'], ['policy_violation', 'invalid_request', 'path_traversal']);
});

test('DNS rebinding: a Host other than 127.0.0.1:<port>/localhost:<port> is refused', async () => {
  const h = (name: string, host: string): A => ({ name, method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', noHost: true, headers: [['Host', host]] });
  const attempts: A[] = [
    CONTROL,
    h('evil', 'evil.example'),
    h('evil-port', 'evil.example:{{PORT}}'),
    h('other-port', '127.0.0.1:1'),
    h('no-port', '127.0.0.1'),
    h('localhost-suffix', 'localhost.evil.example:{{PORT}}'),
    h('userinfo', 'evil@127.0.0.1:{{PORT}}'),
    h('ipv6', '[::1]:{{PORT}}'),
    h('zero', '0.0.0.0:{{PORT}}'),
    { name: 'no-host', raw: 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nAuthorization: Bearer {{TOKEN}}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
    { name: 'two-hosts', raw: 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: evil.example\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assertRefused(r, attempts.slice(1).map((a) => a.name), ['remote_client_rejected'], { allowParser400: true });
});

test('a non-loopback client is refused (peer check), and the broker is not reachable on other interfaces', async (t) => {
  const ext = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!ext) {
    t.skip('no non-loopback IPv4 interface on this machine: the peer check cannot be exercised here');
    return;
  }
  const attempts: A[] = [
    CONTROL,
    { name: 'from-external', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', localAddress: ext },
    { name: 'to-external', method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', connectHost: ext },
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assert.equal(r.result('to-external').error, 'ECONNREFUSED', 'bound to 127.0.0.1 only');
  assertRefused(r, ['from-external'], ['remote_client_rejected']);
});

test('absolute-URI request lines, CONNECT and asterisk targets go nowhere', async () => {
  const line = (name: string, start: string): A => ({
    name,
    raw: `${start} HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
  });
  const attempts: A[] = [
    CONTROL,
    line('absolute-evil', 'GET http://evil.example/v/openai/v1/chat/completions'),
    line('absolute-upstream', 'POST https://api.openai.com/v1/chat/completions'),
    line('absolute-self', 'POST http://{{HOSTPORT}}/v/openai/v1/chat/completions'),
    line('connect', 'CONNECT other.example-custom.test:443'),
    line('asterisk', 'OPTIONS *'),
    line('no-slash', 'POST v/openai/v1/chat/completions'),
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assertRefused(r, attempts.slice(1).map((a) => a.name), ['invalid_request'], { allowParser400: true });
});

test('CRLF / NUL in header names and values never splits a header upstream', async () => {
  const attempts: A[] = [
    CONTROL,
    envelope('env-crlf-value', chat({ path: '/v1/chat/completions', headers: { 'x-a': 'b\r\nx-injected: 1' } })),
    envelope('env-lf-value', chat({ path: '/v1/chat/completions', headers: { 'x-a': 'b\nx-injected: 1' } })),
    envelope('env-cr-value', chat({ path: '/v1/chat/completions', headers: { 'x-a': 'b\rx-injected: 1' } })),
    envelope('env-nul-value', chat({ path: '/v1/chat/completions', headers: { 'x-a': 'b\u0000c' } })),
    envelope('env-crlf-name', chat({ path: '/v1/chat/completions', headers: { 'x-a\r\nx-injected': '1' } })),
    envelope('env-colon-name', chat({ path: '/v1/chat/completions', headers: { 'x-injected: 1\r\nx-a': '1' } })),
    envelope('env-unicode-crlf', chat({ path: '/v1/chat/completions', headers: { 'x-a': 'b\u010d\u010ax-injected: 1' } })),
    { name: 'raw-obs-fold', raw: 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nX-A: b\r\n x-injected: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
    { name: 'raw-bare-cr', raw: 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nX-A: b\rx-injected: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
    { name: 'raw-nul-value', raw: 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\nX-A: b\0c\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' },
  ];
  const r = await attack(lab, { allow: ALLOW, plan: { attempts } });
  assertRefused(r, attempts.slice(1).map((a) => a.name), ['invalid_request'], { allowParser400: true });
});

test('request smuggling: CL+TE, duplicate CL, bad TE and pipelined bytes never desync the upstream', async () => {
  const head = 'POST /v/openai/v1/chat/completions HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\n';
  const smuggled = 'GET /v/openai/v1/models HTTP/1.1\r\nHost: {{HOSTPORT}}\r\nAuthorization: Bearer {{TOKEN}}\r\n\r\n';
  const upstreamSmuggle = 'GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n';
  const attempts: A[] = [
    { name: 'cl-te', raw: `${head}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}` },
    { name: 'te-cl', raw: `${head}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${upstreamSmuggle}` },
    { name: 'dup-cl', raw: `${head}Content-Length: 2\r\nContent-Length: 60\r\n\r\n{}${upstreamSmuggle}` },
    { name: 'cl-list', raw: `${head}Content-Length: 2, 60\r\n\r\n{}${upstreamSmuggle}` },
    { name: 'te-identity', raw: `${head}Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n` },
    { name: 'te-xchunked', raw: `${head}Transfer-Encoding: xchunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n${upstreamSmuggle}` },
    { name: 'te-space', raw: `${head}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n` },
    { name: 'cl-negative', raw: `${head}Content-Length: -1\r\n\r\n{}` },
    { name: 'cl-plus', raw: `${head}Content-Length: +2\r\n\r\n{}` },
    // a well-formed chunked body whose bytes look like a request: it must arrive upstream as body bytes only
    { name: 'chunk-payload', raw: `${head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(upstreamSmuggle.length).toString(16)}\r\n${upstreamSmuggle}\r\n0\r\n\r\n` },
  ];
  const r = await attack(lab, { allow: ['openai/chat-completions'], plan: { attempts } });
  assert.equal(r.code, 0, r.stderr);
  // nothing reached the provider except chat-completions requests, and none carried a smuggled request line as a request
  for (const q of provider.requests) assert.equal(q.url, '/v1/chat/completions', `smuggled upstream request: ${q.method} ${q.url}`);
  for (const name of ['cl-te', 'te-cl', 'dup-cl', 'cl-list', 'te-xchunked', 'te-space', 'cl-negative', 'cl-plus']) {
    const res = r.result(name);
    assert.ok(res.status === 400 || res.status === 0 || res.status === 501, `${name}: parser should refuse, got ${res.status} ${res.raw.slice(0, 120)}`);
  }
  const payload = provider.requests.find((q) => q.body.toString().includes('GET /v1/models'));
  assert.ok(payload, 'the chunked payload arrived as body bytes');
  assert.equal(provider.requests.filter((q) => q.url !== '/v1/chat/completions').length, 0);
  assertNoLeak(r.observed, lab.secrets);
});
