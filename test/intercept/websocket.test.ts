/**
 * WebSocket through both doors (SPEC §10): an upgrade to a granted capability's path
 * (openai/realtime) is forwarded with the real credential injected on the upstream upgrade request
 * only, then relayed both ways; what the upstream reflects is redacted; an upgrade to an ungranted
 * path is refused before any upstream connection. Outside an upgrade the broker performs,
 * `sec-websocket-*` headers are stripped both ways.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import WebSocket from 'ws';
import { setup, call, SENTINEL, type Env } from '../broker/setup.js';
import { reply } from '../helpers/fake-provider.js';
import { basic, rawConnect, tlsOver } from './proxy-client.js';

let env: Env;
let token: string;
let caPem: string;
const RUN = 'ws-run';

before(async () => {
  env = await setup({});
  token = env.broker.mintToken({ runId: RUN, capabilities: ['openai/realtime', 'github/repos'] });
  caPem = (await env.broker.enableIntercept(RUN, { capabilities: ['openai/realtime', 'github/repos'], egress: 'allow', egressAllow: [] })).caPem;
});
after(() => env.close());

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, code: res.headers['x-aivault-error'] })));
  });
}
function next(ws: WebSocket): Promise<{ data: string; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (d, binary) => resolve({ data: String(d), binary })));
}

async function exercise(ws: WebSocket): Promise<void> {
  await opened(ws);
  ws.send('hello realtime');
  assert.deepEqual(await next(ws), { data: 'hello realtime', binary: false });
  ws.send(Buffer.from([1, 2, 3]));
  const b = await next(ws);
  assert.equal(b.binary, true);
  ws.send('whoami');
  const who = await next(ws);
  assert.equal(who.data, 'auth=Bearer [REDACTED]', 'a reflected secret is redacted in messages too');
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send('close');
  assert.equal(await closed, 4001, 'the upstream close code is relayed');
  const up = env.provider.upgrades.at(-1)!;
  assert.equal(up.path, '/v1/realtime');
  assert.equal(up.query, 'model=gpt-realtime');
  assert.equal(up.headers.authorization, `Bearer ${SENTINEL.OPENAI_API_KEY}`, 'auth injected on the upstream upgrade');
  assert.ok(!JSON.stringify(up.headers).includes(token), 'the run token never reaches the upstream');
  assert.notEqual(up.headers['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==', "the caller's Sec-WebSocket-Key never reaches the upstream");
}

test('passthrough: ws://127.0.0.1/v/openai/v1/realtime relays both ways with auth injected upstream', async () => {
  env.provider.reset();
  const ws = new WebSocket(`ws://127.0.0.1:${env.broker.port}/v/openai/v1/realtime?model=gpt-realtime`, {
    headers: { authorization: `Bearer ${token}`, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    perMessageDeflate: false,
  });
  await exercise(ws);
  const line = env.audit.events.filter((e) => e.event === 'request' && e.path === '/v1/realtime').at(-1)!;
  assert.equal(line.status, 101);
  assert.equal(line.capability, 'openai/realtime');
  assert.equal(line.runId, RUN);
});

test('intercepted: wss://api.openai.com/v1/realtime through CONNECT relays both ways', async () => {
  env.provider.reset();
  const c = await rawConnect(env.broker.port, 'api.openai.com:443', { 'proxy-authorization': basic(token) });
  assert.equal(c.status, 200);
  const sock = await tlsOver(c.socket, 'api.openai.com', caPem);
  const ws = new WebSocket('wss://api.openai.com/v1/realtime?model=gpt-realtime', {
    headers: { authorization: `Bearer sk-${token}`, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    perMessageDeflate: false,
    createConnection: () => sock as unknown as net.Socket,
  });
  await exercise(ws);
});

test('an upgrade to an ungranted path, or without the token, is refused and reaches no upstream', async () => {
  env.provider.reset();
  const a = new WebSocket(`ws://127.0.0.1:${env.broker.port}/v/openai/v1/chat/completions`, { headers: { authorization: `Bearer ${token}` } });
  await assert.rejects(opened(a), (e: { status?: number; code?: string }) => e.status === 403 && e.code === 'capability_not_granted');
  const b = new WebSocket(`ws://127.0.0.1:${env.broker.port}/v/openai/v1/realtime`);
  await assert.rejects(opened(b), (e: { status?: number; code?: string }) => e.status === 401 && e.code === 'token_missing');
  const c = new WebSocket(`ws://127.0.0.1:${env.broker.port}/v/openai/v1/realtime`, { headers: { authorization: `Bearer ${token}`, 'x-api-key': 'sk-mine' } });
  await assert.rejects(opened(c), (e: { status?: number; code?: string }) => e.status === 403 && e.code === 'auth_header_rejected');
  assert.equal(env.provider.upgrades.length, 0);
  assert.equal(env.provider.requests.length, 0);
});

test('outside an upgrade, sec-websocket-* headers are stripped both ways', async () => {
  env.provider.reset();
  env.provider.on('GET', '/repos/ws-headers', reply.json(200, { ok: true }, { 'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'sec-websocket-protocol': 'x' }));
  const r = await call(env.broker, 'GET', '/v/github/repos/ws-headers', {
    headers: { authorization: `Bearer ${token}`, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
  });
  assert.equal(r.status, 200, r.body);
  const got = env.provider.requests.at(-1)!;
  assert.equal(got.headers['sec-websocket-key'], undefined);
  assert.equal(got.headers['sec-websocket-version'], undefined);
  assert.equal(r.headers['sec-websocket-accept'], undefined);
  assert.equal(r.headers['sec-websocket-protocol'], undefined);
});
