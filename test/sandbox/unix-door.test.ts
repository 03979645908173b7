/**
 * `--sandbox-net=broker`: the broker's unix-socket door (used by the relay inside the sandbox). It is
 * the same broker with the same pipeline: the DNS-rebinding Host check still applies there, the
 * TCP door still refuses non-loopback peers, and requests through the door reach the provider with
 * the key injected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startBroker } from '../../src/broker/index.js';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { SENTINEL } from '../broker/setup.js';

function viaSocket(socketPath: string, host: string, pathName: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path: pathName, headers: { host, 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-aivault-error'] as string | undefined, body }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

test('unix door: same pipeline (token, Host check), key injected upstream; closed with the broker', async () => {
  const provider = await startFakeProvider();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-door-'));
  const sock = path.join(dir, 'broker.sock');
  const broker = await startBroker({ catalog: testCatalog({ secrets: { ...SENTINEL } }), audit: memoryAudit(), env: provider.devEnv(), unixSocket: sock });
  try {
    const tok = broker.mintToken({ runId: 'door', capabilities: ['openai/chat-completions'] });
    const host = `127.0.0.1:${broker.port}`;
    const ok = await viaSocket(sock, host, '/v/openai/v1/chat/completions', { authorization: `Bearer ${tok}` });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(provider.requests.at(-1)?.headers.authorization, `Bearer ${SENTINEL.OPENAI_API_KEY}`);
    const n = provider.requests.length;
    // DNS rebinding through the door: refused like on TCP
    for (const h of ['evil.example', `127.0.0.1:${broker.port + 1}`, 'localhost']) {
      const r = await viaSocket(sock, h, '/v/openai/v1/chat/completions', { authorization: `Bearer ${tok}` });
      assert.equal(r.status, 403, h);
      assert.equal(r.code, 'remote_client_rejected', h);
    }
    const noTok = await viaSocket(sock, host, '/v/openai/v1/chat/completions');
    assert.equal(noTok.code, 'token_missing');
    assert.equal(provider.requests.length, n, 'nothing refused reached the provider');
  } finally {
    await broker.close();
    await provider.close();
  }
  await assert.rejects(viaSocket(sock, 'x', '/'), 'the door closes with the broker');
  fs.rmSync(dir, { recursive: true, force: true });
});
