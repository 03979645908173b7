/**
 * Issue 11 item 10: the broker's own upstream calls honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY from
 * the env it is given (the launcher's), through a CONNECT tunnel, with the SSRF check still done on
 * the real target first. The proxy here is a local node:http server that only ever connects to
 * loopback (api.openai.com:443 is mapped to the fake provider); DNS is the broker's injectable
 * lookup, so nothing leaves the machine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setup, call, SENTINEL } from './setup.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { TEST_CA_PATH } from '../helpers/tls.js';
import { parseNoProxy, readProxyEnv, shouldProxy } from '../../src/broker/proxy-env.js';
import { AivaultError } from '../../src/errors/aivault-error.js';
import { launch, NODE, vaultWith } from '../exec/launch.js';

interface TestProxy {
  port: number;
  connects: Array<{ target: string; auth: string | undefined }>;
  /** every byte that crossed the proxy, both ways */
  seen(): Buffer;
  close(): Promise<void>;
}

async function startProxy(map: Record<string, number>, requireAuth?: string): Promise<TestProxy> {
  const connects: TestProxy['connects'] = [];
  const bytes: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    const target = req.url ?? '';
    const auth = req.headers['proxy-authorization'];
    connects.push({ target, auth });
    if (requireAuth !== undefined && auth !== requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const port = map[target];
    if (port === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'); // never the internet
      return;
    }
    const up = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      client.on('data', (b: Buffer) => bytes.push(b));
      up.on('data', (b: Buffer) => bytes.push(b));
      client.pipe(up).pipe(client);
    });
    sockets.add(up);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connects,
    seen: () => Buffer.concat(bytes),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

let fake: FakeProvider;
before(async () => {
  fake = await startFakeProvider();
});
after(async () => {
  await fake.close();
});

/** api.openai.com "resolves" to a public address; the broker never dials it (the proxy is used). */
const PUBLIC = async () => [{ address: '93.184.216.34', family: 4 }];

async function chat(env: Awaited<ReturnType<typeof setup>>) {
  const token = env.broker.mintToken({ runId: 'px', capabilities: ['openai/chat-completions'] });
  const r = await call(env.broker, 'POST', '/v/openai/v1/chat/completions', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"model":"x"}',
  });
  return { r, token };
}

test('HTTPS_PROXY: the upstream call tunnels through the proxy (CONNECT api.openai.com:443), TLS end to end, the proxy sees no secret', async () => {
  const proxy = await startProxy({ 'api.openai.com:443': fake.port });
  fake.reset();
  const env = await setup({ provider: fake, env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH }, lookup: PUBLIC });
  try {
    const { r, token } = await chat(env);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(proxy.connects.map((c) => c.target), ['api.openai.com:443']);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${SENTINEL.OPENAI_API_KEY}`);
    assert.equal(fake.requests[0]!.servername, 'api.openai.com', 'SNI is the real host');
    assert.equal(fake.requests[0]!.headers['proxy-authorization'], undefined);
    const seen = proxy.seen();
    assert.ok(seen.length > 0);
    assert.equal(seen.includes(SENTINEL.OPENAI_API_KEY), false, 'the proxy saw only ciphertext');
    assert.equal(seen.includes(token), false);
    assert.equal(seen.includes('/v1/chat/completions'), false);
  } finally {
    await env.close();
    await proxy.close();
  }
});

test('http_proxy covers https when no https proxy is set; proxy credentials go as Proxy-Authorization only', async () => {
  const basic = `Basic ${Buffer.from('corp-user:p@ss-SENTINEL').toString('base64')}`;
  const proxy = await startProxy({ 'api.openai.com:443': fake.port }, basic);
  fake.reset();
  const env = await setup({
    provider: fake,
    env: { http_proxy: `http://corp-user:p%40ss-SENTINEL@127.0.0.1:${proxy.port}`, AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH },
    lookup: PUBLIC,
  });
  try {
    const { r } = await chat(env);
    assert.equal(r.status, 200, r.body);
    assert.equal(proxy.connects[0]!.auth, basic);
    const upstreamHeaders = JSON.stringify(fake.requests[0]!.headers);
    assert.equal(upstreamHeaders.includes('p@ss') || upstreamHeaders.includes('corp-user') || upstreamHeaders.includes('proxy-authorization'), false);
    assert.equal(JSON.stringify(env.audit.events).includes('p@ss'), false);
  } finally {
    await env.close();
    await proxy.close();
  }
});

test('a proxy that refuses (407) → 502 upstream_error, nothing delivered, no credential in the answer', async () => {
  const proxy = await startProxy({ 'api.openai.com:443': fake.port }, 'Basic never');
  fake.reset();
  const env = await setup({ provider: fake, env: { HTTPS_PROXY: `http://u:SENTINEL-pw@127.0.0.1:${proxy.port}`, AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH }, lookup: PUBLIC });
  try {
    const { r } = await chat(env);
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-aivault-error'], 'upstream_error');
    assert.equal(fake.requests.length, 0);
    assert.equal(r.body.includes('SENTINEL'), false);
  } finally {
    await env.close();
    await proxy.close();
  }
});

test('SSRF is checked on the real target before the proxy: a private address is refused and the proxy hears nothing', async () => {
  const proxy = await startProxy({ 'api.openai.com:443': fake.port });
  fake.reset();
  for (const addr of ['10.1.2.3', '127.0.0.1', '169.254.169.254']) {
    const env = await setup({ provider: fake, env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH }, lookup: async () => [{ address: addr, family: 4 }] });
    try {
      const { r } = await chat(env);
      assert.equal(r.status, 403, addr);
      assert.equal(r.headers['x-aivault-error'], 'host_not_allowed');
    } finally {
      await env.close();
    }
  }
  assert.equal(proxy.connects.length, 0);
  assert.equal(fake.requests.length, 0);
  await proxy.close();
});

test('NO_PROXY and AIVAULT_DEV_RESOLVE-mapped hosts connect directly', async () => {
  const proxy = await startProxy({});
  try {
    for (const extra of [{}, { NO_PROXY: 'api.openai.com' }]) {
      fake.reset();
      const env = await setup({ provider: fake, env: { ...fake.devEnv(), HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, ...extra } });
      try {
        const { r } = await chat(env);
        assert.equal(r.status, 200, r.body);
      } finally {
        await env.close();
      }
    }
    assert.equal(proxy.connects.length, 0);
  } finally {
    await proxy.close();
  }
});

test('proxy settings: precedence, scheme-less values, NO_PROXY forms', () => {
  assert.equal(readProxyEnv({}), undefined);
  assert.equal(readProxyEnv({ HTTPS_PROXY: '  ' }), undefined);
  assert.equal(readProxyEnv({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', HTTP_PROXY: 'http://c:3' })!.display, 'http://a:1');
  assert.equal(readProxyEnv({ HTTPS_PROXY: 'http://b:2', http_proxy: 'http://c:3' })!.display, 'http://b:2');
  assert.equal(readProxyEnv({ HTTP_PROXY: 'proxy.corp:3128' })!.display, 'http://proxy.corp:3128');
  const withCreds = readProxyEnv({ HTTPS_PROXY: 'http://u:secret@proxy.corp:3128' })!;
  assert.equal(withCreds.display.includes('secret'), false);
  for (const bad of ['socks5://p:1080', 'ftp://p', 'http://']) {
    assert.throws(() => readProxyEnv({ HTTPS_PROXY: bad }), (e: unknown) => e instanceof AivaultError && /HTTPS_PROXY/.test(e.message));
  }
  const s = (no: string) => {
    const p = parseNoProxy(no);
    return { noProxy: p.rules, noProxyAll: p.all };
  };
  const cases: Array<[string, string, number, boolean]> = [
    ['', 'api.openai.com', 443, true],
    ['*', 'api.openai.com', 443, false],
    ['api.openai.com', 'api.openai.com', 443, false],
    ['API.OpenAI.com', 'api.openai.com', 443, false],
    ['openai.com', 'api.openai.com', 443, false],
    ['.openai.com', 'api.openai.com', 443, false],
    ['*.openai.com', 'api.openai.com', 443, false],
    ['penai.com', 'api.openai.com', 443, true],
    ['api.openai.com:8443', 'api.openai.com', 443, true],
    ['api.openai.com:443', 'api.openai.com', 443, false],
    ['localhost, 127.0.0.1 ,api.anthropic.com', 'api.anthropic.com', 443, false],
    ['localhost 127.0.0.1', 'api.anthropic.com', 443, true],
    ['[::1]:443', '::1', 443, false],
  ];
  for (const [no, host, port, want] of cases) assert.equal(shouldProxy(s(no), host, port), want, `NO_PROXY='${no}' ${host}:${port}`);
});

test('exec takes proxy settings from the launcher env only: the child never gets them; an unusable one stops the run before the child (125)', async () => {
  const vault = await vaultWith({ OPENAI_API_KEY: 'sk-SENTINEL-proxy-exec' });
  const dump = `process.stdout.write(JSON.stringify(Object.keys(process.env).filter((k) => /proxy/i.test(k))))`;
  const ok = await launch(['--allow', 'openai/models', '--', NODE, '-e', dump], {
    env: { AIVAULT_DIR: vault, HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', NO_PROXY: 'localhost' },
  }).done;
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout.toString()), [], 'no proxy variable reaches the child');
  const bad = await launch(['--allow', 'openai/models', '--', NODE, '-e', 'console.log("child ran")'], { env: { AIVAULT_DIR: vault, HTTPS_PROXY: 'socks5://127.0.0.1:1080' } }).done;
  assert.equal(bad.code, 125);
  assert.equal(bad.stdout.toString(), '', 'the child never ran');
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /HTTPS_PROXY: unsupported proxy scheme/);
});
