/**
 * The broker's proxy door (SPEC §10), in process: CONNECT needs the run token (407 otherwise);
 * a granted host is intercepted with a leaf from the run CA and its requests run the passthrough
 * pipeline (real credential injected upstream, the placeholder consumed); other hosts are
 * tunnelled or refused under egress deny; no leaf for a host outside the grant; one audit line
 * per CONNECT and per inner request; the CA carries the name constraints (openssl x509 -text).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setup, SENTINEL, leaks, type Env } from '../broker/setup.js';
import { basic, proxyAgent, rawConnect, tlsOver, viaProxy } from './proxy-client.js';

let env: Env;
let token: string;
let caPem: string;
let echo: net.Server;
let echoPort = 0;
const RUN = 'intercept-run';

before(async () => {
  // a plain TCP echo standing in for "some other host" (tunnelled unmodified)
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  env = await setup({});
  const dev = env.provider.devEnv();
  await env.broker.close();
  const { startBroker } = await import('../../src/broker/index.js');
  env.broker = await startBroker({
    catalog: env.catalog,
    audit: env.audit,
    env: { ...dev, AIVAULT_DEV_RESOLVE: `${dev.AIVAULT_DEV_RESOLVE},tunnel.example.test=127.0.0.1:${echoPort}` },
  });
  token = env.broker.mintToken({ runId: RUN, capabilities: ['github/repos', 'openai/models'] });
  const ic = await env.broker.enableIntercept(RUN, { capabilities: ['github/repos', 'openai/models'], egress: 'allow', egressAllow: [] });
  caPem = ic.caPem;
  assert.deepEqual(ic.hosts.sort(), ['api.github.com', 'api.openai.com']);
});
after(async () => {
  await env.broker.close(); // the broker started here (setup's own was closed in before)
  await env.close();
  echo.close();
});

const connects = () => env.audit.events.filter((e) => e.event === 'request' && e.method === 'CONNECT');

test('an intercepted request: the upstream gets exactly the real credential, the placeholder is consumed', async () => {
  env.provider.reset();
  const agent = proxyAgent(env.broker.port, token, caPem);
  const before = env.audit.events.length;
  const r = await viaProxy(agent, 'api.github.com', 'GET', '/repos/o/r?per_page=1', { headers: { authorization: `Bearer ghp_${token}` } });
  assert.equal(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body).path, '/repos/o/r');
  const got = env.provider.requests.at(-1)!;
  assert.equal(got.headers.authorization, `Bearer ${SENTINEL.GITHUB_TOKEN}`);
  assert.equal(got.servername, 'api.github.com');
  assert.ok(!JSON.stringify(got.headers).includes(token), 'the run token never reaches the upstream');
  assert.equal(got.headers['proxy-authorization'], undefined);
  // Basic (git style), `token x` (gh style), a custom header and a query parameter
  for (const h of [{ authorization: basic(`ghp_${token}`) }, { authorization: `token ghp_${token}` }, { 'x-my-key': `ghp_${token}` }] as Array<Record<string, string>>) {
    const q = await viaProxy(agent, 'api.github.com', 'GET', '/repos/o/r', { headers: h });
    assert.equal(q.status, 200, q.body);
    const g = env.provider.requests.at(-1)!;
    assert.equal(g.headers.authorization, `Bearer ${SENTINEL.GITHUB_TOKEN}`);
    assert.ok(!JSON.stringify(g.headers).includes(token));
  }
  const q = await viaProxy(agent, 'api.github.com', 'GET', `/repos/o/r?access_token=ghp_${token}&a=1`);
  assert.equal(q.status, 200, q.body);
  assert.equal(env.provider.requests.at(-1)!.query, 'a=1');
  // audit: one line per CONNECT (undici may open more than one connection) and one per inner request
  const lines = env.audit.events.slice(before).filter((e) => e.event === 'request');
  const cs = lines.filter((e) => e.method === 'CONNECT');
  assert.ok(cs.length >= 1 && cs.length <= 5 && cs.every((e) => e.status === 200 && e.decision === 'allow' && e.host === 'api.github.com'));
  assert.equal(lines.filter((e) => e.method === 'GET').length, 5);
  for (const l of lines) assert.equal(l.runId, RUN);
  assert.ok(lines.filter((e) => e.method === 'GET').every((e) => e.capability === 'github/repos' && e.host === 'api.github.com'));
  assert.deepEqual(leaks(JSON.stringify(env.audit.events)), []);
  assert.ok(!JSON.stringify(env.audit.events).includes(token));
  await agent.close();
});

test('CONNECT without the run token is 407 token_missing with Proxy-Authenticate; a wrong token is 407 too', async () => {
  const n = connects().length;
  const a = await rawConnect(env.broker.port, 'api.github.com:443');
  assert.equal(a.status, 407);
  assert.match(a.head, /x-aivault-error: token_missing/i);
  assert.match(a.head, /proxy-authenticate: Basic/i);
  a.socket.destroy();
  const b = await rawConnect(env.broker.port, 'api.github.com:443', { 'proxy-authorization': basic('x'.repeat(43)) });
  assert.equal(b.status, 407);
  assert.match(b.head, /x-aivault-error: token_invalid/i);
  b.socket.destroy();
  const c = await rawConnect(env.broker.port, 'api.github.com:443', { authorization: `Bearer ${token}` });
  assert.equal(c.status, 407, 'the token belongs in Proxy-Authorization');
  c.socket.destroy();
  assert.equal(connects().length, n + 3, 'one audit line per refused CONNECT');
  assert.ok(connects().slice(-3).every((e) => e.decision === 'deny' && e.status === 407));
});

test('hosts outside the grant are tunnelled unmodified, and never get a leaf', async () => {
  const c = await rawConnect(env.broker.port, `tunnel.example.test:443`, { 'proxy-authorization': basic(token) });
  assert.equal(c.status, 200);
  const got = await new Promise<string>((resolve) => {
    c.socket.once('data', (b: Buffer) => resolve(b.toString()));
    c.socket.write('hello through the tunnel');
  });
  assert.equal(got, 'hello through the tunnel', 'bytes pass unmodified');
  c.socket.destroy();
  // a CONNECT to a non-granted TLS host: the broker never terminates it with a run-CA leaf
  const d = await rawConnect(env.broker.port, 'api.anthropic.com:443', { 'proxy-authorization': basic(token) });
  assert.equal(d.status, 200);
  // the fake provider's test certificate, not a run-CA leaf: verification against the run CA fails
  await assert.rejects(tlsOver(d.socket, 'api.anthropic.com', caPem));
  d.socket.destroy();
});

test('egress deny: a host outside the grant is 403 host_not_allowed unless --egress-allow names it', async () => {
  const runId = 'deny-run';
  const t = env.broker.mintToken({ runId, capabilities: ['github/repos'] });
  await env.broker.enableIntercept(runId, { capabilities: ['github/repos'], egress: 'deny', egressAllow: ['tunnel.example.test'] });
  const a = await rawConnect(env.broker.port, 'api.anthropic.com:443', { 'proxy-authorization': basic(t) });
  assert.equal(a.status, 403);
  assert.match(a.head, /x-aivault-error: host_not_allowed/i);
  a.socket.destroy();
  const b = await rawConnect(env.broker.port, 'tunnel.example.test:443', { 'proxy-authorization': basic(t) });
  assert.equal(b.status, 200);
  b.socket.destroy();
  // a granted host on another port is not intercepted, and under deny it is refused
  const c = await rawConnect(env.broker.port, 'api.github.com:8443', { 'proxy-authorization': basic(t) });
  assert.equal(c.status, 403);
  c.socket.destroy();
});

test('a run without --intercept cannot use the broker as its proxy', async () => {
  const t = env.broker.mintToken({ runId: 'plain-run', capabilities: ['github/repos'] });
  const a = await rawConnect(env.broker.port, 'api.github.com:443', { 'proxy-authorization': basic(t) });
  assert.equal(a.status, 403);
  assert.match(a.head, /x-aivault-error: policy_violation/i);
  a.socket.destroy();
});

test('the run CA: P-256, critical name constraints for the granted hosts only, valid at most a day', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-ca-'));
  try {
    const f = path.join(dir, 'ca.pem');
    fs.writeFileSync(f, caPem);
    const text = execFileSync('openssl', ['x509', '-in', f, '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /X509v3 Name Constraints: critical/);
    const nc = text.slice(text.indexOf('Name Constraints'));
    assert.match(nc, /Permitted:\s*\n\s*DNS:api\.github\.com\s*\n\s*DNS:api\.openai\.com/);
    assert.match(nc, /Excluded:\s*\n\s*IP:0\.0\.0\.0\/0\.0\.0\.0/);
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.match(text, /ASN1 OID: prime256v1/);
    const nb = Date.parse(/Not Before: (.*)/.exec(text)![1]!);
    const na = Date.parse(/Not After : (.*)/.exec(text)![1]!);
    assert.ok(na - Date.now() <= 24 * 3600_000 + 1000 && na - nb <= 24 * 3600_000 + 61_000, 'valid for a day at most');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a leaf is minted only for granted hosts (the CA refuses others)', async () => {
  const { createRunCa } = await import('../../src/broker/intercept/ca.js');
  const ca = await createRunCa({ hosts: ['api.github.com'] });
  assert.equal(await ca.contextFor('evil.example.com'), undefined);
  assert.equal(await ca.contextFor('github.com'), undefined);
  assert.ok(await ca.contextFor('API.GITHUB.COM'));
  assert.deepEqual(ca.mintedHosts(), ['api.github.com']);
});

test('plain-HTTP proxy requests: a granted host goes through the pipeline and upstream over HTTPS', async () => {
  env.provider.reset();
  const http = await import('node:http');
  const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: env.broker.port, method: 'GET', path: 'http://api.github.com/repos/o/r', headers: { host: 'api.github.com', 'proxy-authorization': basic(token), authorization: `Bearer ghp_${token}` }, agent: false },
      (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(r.status, 200, r.body);
  assert.equal(env.provider.requests.at(-1)!.headers.authorization, `Bearer ${SENTINEL.GITHUB_TOKEN}`);
  assert.equal(env.provider.requests.at(-1)!.servername, 'api.github.com', 'upstream over TLS, never cleartext');
});
