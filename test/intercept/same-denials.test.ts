/**
 * One policy, two doors (SPEC §10): the same requests sent through passthrough `/v/github/...` and
 * through an intercepted CONNECT to api.github.com get the same status and the same
 * `x-aivault-error` code, case by case, and the upstream sees the same thing (or nothing).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, call, SENTINEL, type Env } from '../broker/setup.js';
import { reply } from '../helpers/fake-provider.js';
import { proxyAgent, viaProxy, type ProxyResp } from './proxy-client.js';

let env: Env;
let token: string;
let caPem: string;
const RUN = 'same-run';

before(async () => {
  env = await setup({});
  token = env.broker.mintToken({ runId: RUN, capabilities: ['github/repos', 'openai/models'] });
  caPem = (await env.broker.enableIntercept(RUN, { capabilities: ['github/repos', 'openai/models'], egress: 'allow', egressAllow: [] })).caPem;
  env.provider.on('GET', '/repos/redir', reply.redirect('https://evil.example/steal'));
  env.provider.on('GET', '/repos/reflect', reply.reflect((r) => String(r.headers.authorization)));
});
after(() => env.close());

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** expected status and code (undefined = no broker error) */
  status: number;
  code?: string;
  upstreamSees?: boolean;
}

const CASES: Case[] = [
  { name: 'granted GET', method: 'GET', path: '/repos/o/r', status: 200, upstreamSees: true },
  { name: 'ungranted path', method: 'GET', path: '/user', status: 403, code: 'capability_not_granted' },
  { name: 'prefix is whole segments', method: 'GET', path: '/reposX', status: 403, code: 'capability_not_granted' },
  { name: 'wrong method', method: 'DELETE', path: '/repos/o/r', status: 403, code: 'method_not_allowed' },
  { name: 'dot-dot encoded', method: 'GET', path: '/repos/%2e%2e/user', status: 400, code: 'path_traversal' },
  { name: 'encoded slash', method: 'GET', path: '/repos/a%2fb', status: 400, code: 'path_traversal' },
  { name: 'double encoding', method: 'GET', path: '/repos/a%252fb', status: 400, code: 'path_traversal' },
  { name: 'backslash', method: 'GET', path: '/repos/a%5cb', status: 400, code: 'path_traversal' },
  { name: 'caller authorization', method: 'GET', path: '/repos/o/r', headers: { authorization: 'Bearer ghp_callerOwnKey' }, status: 403, code: 'auth_header_rejected' },
  { name: 'caller cookie', method: 'GET', path: '/repos/o/r', headers: { cookie: 'session=1' }, status: 403, code: 'auth_header_rejected' },
  { name: 'caller api-key', method: 'GET', path: '/repos/o/r', headers: { 'api-key': 'k' }, status: 403, code: 'auth_header_rejected' },
  { name: 'redirect returned, not followed', method: 'GET', path: '/repos/redir', status: 302, upstreamSees: true },
  { name: 'reflected secret redacted', method: 'GET', path: '/repos/reflect', status: 200, upstreamSees: true },
];

async function passthrough(c: Case): Promise<ProxyResp> {
  // the token rides in x-api-key so that a caller Authorization header stays the caller's
  const r = await call(env.broker, c.method, `/v/github${c.path}`, { headers: { 'x-api-key': token, ...(c.headers ?? {}) } });
  return { status: r.status, headers: r.headers, body: r.body };
}

test('every case gets the same answer through passthrough and through the proxy', async () => {
  const agent = proxyAgent(env.broker.port, token, caPem);
  try {
    for (const c of CASES) {
      for (const [door, send] of [
        ['passthrough', () => passthrough(c)],
        ['proxy', () => viaProxy(agent, 'api.github.com', c.method, c.path, { headers: c.headers ?? {} })],
      ] as const) {
        const n = env.provider.requests.length;
        const r = await send();
        const where = `${c.name} via ${door}: ${r.status} ${r.body.slice(0, 200)}`;
        assert.equal(r.status, c.status, where);
        assert.equal(r.headers['x-aivault-error'], c.code, where);
        if (c.code) assert.equal(JSON.parse(r.body).error.code, c.code, where);
        assert.equal(env.provider.requests.length - n, c.upstreamSees ? 1 : 0, `${where}: upstream requests`);
        if (c.upstreamSees) assert.equal(env.provider.requests.at(-1)!.headers.authorization, `Bearer ${SENTINEL.GITHUB_TOKEN}`);
        assert.ok(!r.body.includes(SENTINEL.GITHUB_TOKEN) && !JSON.stringify(r.headers).includes(SENTINEL.GITHUB_TOKEN), `${where}: secret redacted`);
        if (c.path === '/repos/redir') assert.equal(r.headers.location, 'https://evil.example/steal');
      }
    }
    // a dead token: the run ended → both doors answer token_expired
    env.broker.revokeRun(RUN);
    const p = await passthrough(CASES[0]!);
    const q = await viaProxy(agent, 'api.github.com', 'GET', '/repos/o/r');
    assert.equal(p.headers['x-aivault-error'], 'token_expired');
    assert.equal(q.headers['x-aivault-error'], 'token_expired');
    assert.equal(p.status, q.status);
  } finally {
    await agent.close();
  }
  // exactly one audit line per request, each with the run id, the same codes for both doors
  const lines = env.audit.events.filter((e) => e.event === 'request' && e.method !== 'CONNECT');
  assert.equal(lines.length, CASES.length * 2 + 2);
  assert.ok(lines.every((e) => e.runId === RUN));
});
