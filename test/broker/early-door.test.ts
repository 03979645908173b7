/**
 * `aivault exec` opens the broker's doors and spawns the command before the broker itself has
 * loaded (README "Start-up"). What reaches a door in that window waits and then goes through the
 * same pipeline as any other request: served when allowed, refused when not, never forwarded
 * unchecked, never lost. Deterministic: the requests are sent and seen waiting before the broker
 * attaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startBroker } from '../../src/broker/index.js';
import { openBrokerListener } from '../../src/broker/listen.js';
import { TokenTable } from '../../src/broker/tokens.js';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { SENTINEL } from './setup.js';

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves once the listener's server has parsed `n` requests that nobody has answered yet. */
async function waiting(server: http.Server, n: number): Promise<void> {
  let seen = 0;
  await new Promise<void>((resolve) => {
    const on = (): void => {
      if (++seen >= n) {
        server.removeListener('request', on);
        resolve();
      }
    };
    server.on('request', on);
  });
}

test('requests that arrive before the broker attaches wait, then get the pipeline: allowed ones are served, others refused', async () => {
  const provider = await startFakeProvider();
  const listener = await openBrokerListener();
  const tokens = new TokenTable();
  const token = tokens.mint({ runId: 'early', capabilities: ['openai/chat-completions'] });
  try {
    const arrived = waiting(listener.server, 3);
    const ok = send(listener.port, 'POST', '/v/openai/v1/chat/completions', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{"model":"early"}');
    const noToken = send(listener.port, 'POST', '/v/openai/v1/chat/completions', { 'content-type': 'application/json' }, '{}');
    const notGranted = send(listener.port, 'GET', '/v/openai/v1/models', { authorization: `Bearer ${token}` });
    await arrived;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(provider.requests.length, 0, 'nothing went anywhere while the broker was not there');

    const audit = memoryAudit();
    const broker = await startBroker({ catalog: testCatalog({ secrets: { ...SENTINEL } }), audit, env: provider.devEnv(), listener, tokens, runId: 'early' });
    try {
      const [a, b, c] = await Promise.all([ok, noToken, notGranted]);
      assert.equal(a.status, 200, a.body);
      assert.equal(b.status, 401, b.body);
      assert.match(b.body, /token_missing/);
      assert.equal(c.status, 403, c.body);
      assert.match(c.body, /capability_not_granted/);
      assert.equal(provider.requests.length, 1, 'only the granted request went upstream');
      assert.equal(provider.requests[0]!.headers.authorization, `Bearer ${SENTINEL.OPENAI_API_KEY}`);
      assert.equal(provider.requests[0]!.body.toString(), '{"model":"early"}');
      assert.equal(audit.events.filter((e) => e.event === 'request').length, 3, 'one audit line each');
      assert.equal(broker.port, listener.port);
      // and after attaching, the same door serves directly
      const later = await send(listener.port, 'POST', '/v/openai/v1/chat/completions', { authorization: `Bearer ${token}` }, '{}');
      assert.equal(later.status, 200, later.body);
    } finally {
      await broker.close();
    }
  } finally {
    await provider.close();
  }
});

test('a door closed before any broker attached ends what waited (no hang) and frees the port', async () => {
  const listener = await openBrokerListener();
  const arrived = waiting(listener.server, 1);
  const pending = send(listener.port, 'GET', '/v/openai/v1/models', {}).then(
    () => 'answered',
    () => 'cut',
  );
  await arrived;
  await new Promise<void>((resolve) => listener.close(resolve));
  assert.equal(await pending, 'cut');
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(listener.port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
  assert.equal(refused, true, 'nothing listens on the port any more');
});
