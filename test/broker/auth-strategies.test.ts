/**
 * The multi-secret strategies end to end against a local fake provider (SPEC §6): aws-sigv4
 * (buffered + hashed body; S3 streamed with UNSIGNED-PAYLOAD; session token), hmac (sha256 and
 * sha512, body hash, timestamp/nonce), mtls (client certificate on the TLS connection). For each:
 * the upstream sees valid auth it can verify, and no secret reaches the caller (body, headers,
 * error bodies) or the audit log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { reply } from '../helpers/fake-provider.js';
import { TLS_DIR, leafCert, testCa } from '../helpers/tls.js';
import { ACME, setup, call, type Env } from './setup.js';
import { signV4, canonicalQuery } from '../../src/auth/sigv4.js';
import type { Capability, Credential } from '../../src/registry/types.js';

const HOST = 'api.example-custom.test';
const MTLS_HOST = 'other.example-custom.test';
const S = {
  AK: 'AKIDSENTINEL0123456789',
  SK: 'sk-SENTINEL-aws-secret/abc+def0123456789',
  ST: 'st-SENTINEL-session-token-0123456789',
  HK: 'hk-SENTINEL-hmac-key-0123456789',
  HK_ID: 'hkid-SENTINEL-0123',
};
const SECRET_LIST = () => [...Object.values(S), clientKeyPem];
let clientCertPem = '';
let clientKeyPem = '';

function cap(id: string, prefix: string, hosts = [HOST]): Capability {
  return { id, provider: 'acme', methods: ['GET', 'POST', 'PUT'], pathPrefixes: [prefix], hosts, custom: true };
}
const CAPS = [cap('acme/aws', '/aws'), cap('acme/s3', '/s3'), cap('acme/hmac', '/hmac'), cap('acme/hmac512', '/h512'), cap('acme/mtls', '/mtls', [MTLS_HOST])];
const creds = (): Credential[] => [
  { id: 'aws', provider: 'acme', secrets: { accessKeyId: 'T_AK', secretAccessKey: 'T_SK', sessionToken: 'T_ST' }, auth: { strategy: 'aws-sigv4', region: 'eu-west-1', service: 'bedrock' }, hosts: [HOST], custom: true },
  { id: 's3', provider: 'acme', secrets: { accessKeyId: 'T_AK', secretAccessKey: 'T_SK' }, auth: { strategy: 'aws-sigv4', region: 'us-east-1', service: 's3' }, hosts: [HOST], custom: true },
  {
    id: 'hmac',
    provider: 'acme',
    secrets: { secret: 'T_HK', keyId: 'T_HK_ID' },
    auth: { strategy: 'hmac', algorithm: 'sha256', header: 'x-signature', template: '{{timestamp}}\n{{method}}\n{{path}}\n{{bodyHash}}', value: 'v1={{signature}}', timestampHeader: 'x-timestamp', nonceHeader: 'x-nonce', encoding: 'hex', key: 'secret', keyEncoding: 'utf8', headers: { 'x-key-id': '{{keyId}}' } },
    hosts: [HOST],
    custom: true,
  },
  {
    id: 'hmac512',
    provider: 'acme',
    secrets: { secret: 'T_HK' },
    auth: { strategy: 'hmac', algorithm: 'sha512', header: 'x-sig', template: '{{timestamp}}.{{body}}', value: 't={{timestamp}},s={{signature}}', timestampHeader: '', encoding: 'base64', key: 'secret', keyEncoding: 'utf8' },
    hosts: [HOST],
    custom: true,
  },
  { id: 'mtls', provider: 'acme', secrets: { cert: 'T_CERT', key: 'T_KEY' }, auth: { strategy: 'mtls' }, hosts: [MTLS_HOST], custom: true },
];

let env: Env;
let token: string;
let tmp: string;
let mtlsServer: https.Server;
const mtlsSeen: Array<{ authorized: boolean; subject: string | undefined }> = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-mtls-'));
  // a TEST-ONLY client certificate signed by the test CA
  const key = path.join(tmp, 'client.key');
  const csr = path.join(tmp, 'client.csr');
  const crt = path.join(tmp, 'client.pem');
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=aivault-test-client'], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', path.join(TLS_DIR, 'ca.pem'), '-CAkey', path.join(TLS_DIR, 'ca.key'), '-CAcreateserial', '-CAserial', path.join(tmp, 'ca.srl'), '-out', crt, '-days', '2'], { stdio: 'ignore' });
  clientCertPem = fs.readFileSync(crt, 'utf8');
  clientKeyPem = fs.readFileSync(key, 'utf8');

  mtlsServer = https.createServer({ ...leafCert(), ca: testCa(), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const sock = req.socket as import('node:tls').TLSSocket;
    mtlsSeen.push({ authorized: sock.authorized, subject: String(sock.getPeerCertificate()?.subject?.CN) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, cn: sock.getPeerCertificate()?.subject?.CN }));
  });
  await new Promise<void>((r) => mtlsServer.listen(0, '127.0.0.1', r));
  const { startFakeProvider } = await import('../helpers/fake-provider.js');
  const provider = await startFakeProvider();
  const devEnv = provider.devEnv();
  devEnv.AIVAULT_DEV_RESOLVE = devEnv.AIVAULT_DEV_RESOLVE.split(',').filter((e) => !e.startsWith(MTLS_HOST)).join(',') + `,${MTLS_HOST}=127.0.0.1:${(mtlsServer.address() as AddressInfo).port}`;
  env = await setup({
    provider,
    env: devEnv,
    secrets: { T_AK: S.AK, T_SK: S.SK, T_ST: S.ST, T_HK: S.HK, T_HK_ID: S.HK_ID, T_CERT: clientCertPem, T_KEY: clientKeyPem },
    providers: [ACME],
    credentials: creds(),
    capabilities: CAPS,
  });
  token = env.broker.mintToken({ runId: 'run-auth', capabilities: CAPS.map((c) => c.id) });
});

after(async () => {
  await env.close();
  await new Promise<void>((r) => mtlsServer.close(() => r()));
  await env.provider.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const auth = () => ({ authorization: `Bearer ${token}` });

function assertNoLeak(text: string): void {
  for (const s of SECRET_LIST()) assert.equal(text.includes(s), false, 'a secret leaked');
  assert.equal(text.includes(token), false, 'the run token leaked');
}

/** What an AWS service does: rebuild the canonical request from what it received and check. */
function verifySigV4(rec: { method: string; path: string; query: string; headers: Record<string, unknown>; body: Buffer }, region: string, service: string): void {
  const authz = String(rec.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authz);
  assert.ok(m, `authorization header shape: ${authz}`);
  assert.equal(m[1], S.AK);
  assert.equal(m[3], region);
  assert.equal(m[4], service);
  const signed = m[5]!.split(';');
  assert.ok(signed.includes('host') && signed.includes('x-amz-date') && signed.includes('x-amz-content-sha256'));
  const payload = String(rec.headers['x-amz-content-sha256']);
  if (payload !== 'UNSIGNED-PAYLOAD') assert.equal(payload, createHash('sha256').update(rec.body).digest('hex'), 'payload hash is the body hash');
  const r = signV4(
    { method: rec.method, path: rec.path, query: rec.query, headers: signed.map((h) => [h, String(rec.headers[h])] as [string, string]), payloadHash: payload },
    { region, service, amzDate: String(rec.headers['x-amz-date']) },
    { accessKeyId: S.AK, secretAccessKey: S.SK },
  );
  assert.equal(m[6], r.signature, 'signature verifies');
}

test('aws-sigv4: body buffered and hashed, session token signed, query sorted; the upstream verifies', async () => {
  env.provider.reset();
  const body = JSON.stringify({ prompt: 'hi', n: 1 });
  const r = await call(env.broker, 'POST', '/v/aws/aws/model/x%20y/invoke?b=2&a=1', { headers: { ...auth(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body });
  assert.equal(r.status, 200, r.body);
  const rec = env.provider.requests.at(-1)!;
  assert.equal(rec.body.toString(), body);
  assert.equal(rec.headers['x-amz-security-token'], S.ST);
  assert.ok(String(rec.headers.authorization).includes('x-amz-security-token'), 'session token is a signed header');
  assert.equal(canonicalQuery(rec.query), 'a=1&b=2');
  verifySigV4(rec, 'eu-west-1', 'bedrock');
  assertNoLeak(r.body + JSON.stringify(r.headers));
});

test('aws-sigv4 S3: streamed upload with UNSIGNED-PAYLOAD, caller x-amz-meta-* kept and signed', async () => {
  env.provider.reset();
  const body = Buffer.alloc(256 * 1024, 7);
  const r = await call(env.broker, 'PUT', '/v/s3/s3/bucket/key.bin', { headers: { ...auth(), 'x-amz-meta-color': 'blue', 'transfer-encoding': 'chunked' }, body });
  assert.equal(r.status, 200, r.body);
  const rec = env.provider.requests.at(-1)!;
  assert.equal(rec.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  assert.equal(rec.body.length, body.length);
  assert.ok(String(rec.headers.authorization).includes('x-amz-meta-color'));
  verifySigV4(rec, 'us-east-1', 's3');
});

test('aws-sigv4: a caller cannot supply its own session token or presigned parameters', async () => {
  env.provider.reset();
  const a = await call(env.broker, 'GET', '/v/aws/aws/x', { headers: { ...auth(), 'x-amz-security-token': 'mine' } });
  assert.equal(a.status, 403);
  assert.equal(a.headers['x-aivault-error'], 'auth_header_rejected');
  const b = await call(env.broker, 'GET', '/v/aws/aws/x?X-Amz-Signature=abc', { headers: auth() });
  assert.equal(b.status, 403);
  assert.equal(env.provider.requests.length, 0);
});

test('aws-sigv4: an upstream that reflects the auth header back gets it redacted, the secret key never appears', async () => {
  env.provider.reset();
  env.provider.on('GET', '/aws/reflect', reply.reflect((req) => `${String(req.headers['x-amz-security-token'])}|${S.SK}`, { chunkSize: 5 }));
  const r = await call(env.broker, 'GET', '/v/aws/aws/reflect', { headers: auth() });
  assert.equal(r.status, 200);
  assertNoLeak(r.body + JSON.stringify(r.headers));
});

test('hmac sha256: the upstream recomputes the signature over timestamp, method, path and body hash', async () => {
  env.provider.reset();
  const body = '{"event":"ping"}';
  const r = await call(env.broker, 'POST', '/v/hmac/hmac/events?x=1', { headers: { ...auth(), 'content-type': 'application/json' }, body });
  assert.equal(r.status, 200, r.body);
  const rec = env.provider.requests.at(-1)!;
  const ts = String(rec.headers['x-timestamp']);
  assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60, 'fresh timestamp');
  assert.match(String(rec.headers['x-nonce']), /^[0-9a-f]{32}$/);
  assert.equal(rec.headers['x-key-id'], S.HK_ID);
  const msg = `${ts}\nPOST\n${rec.url}\n${createHash('sha256').update(rec.body).digest('hex')}`;
  assert.equal(rec.headers['x-signature'], `v1=${createHmac('sha256', S.HK).update(msg).digest('hex')}`);
  assertNoLeak(r.body);
  // two identical requests never carry the same nonce (replay-distinguishable)
  await call(env.broker, 'POST', '/v/hmac/hmac/events?x=1', { headers: { ...auth(), 'content-type': 'application/json' }, body });
  assert.notEqual(env.provider.requests.at(-1)!.headers['x-nonce'], rec.headers['x-nonce']);
});

test('hmac sha512 base64 over a streamed (chunked) body', async () => {
  env.provider.reset();
  const body = 'a'.repeat(100_000);
  const r = await call(env.broker, 'POST', '/v/hmac512/h512/x', { headers: { ...auth(), 'transfer-encoding': 'chunked' }, body });
  assert.equal(r.status, 200, r.body);
  const rec = env.provider.requests.at(-1)!;
  const m = /^t=(\d+),s=(.+)$/.exec(String(rec.headers['x-sig']));
  assert.ok(m);
  assert.equal(m[2], createHmac('sha512', S.HK).update(`${m[1]}.${body}`).digest('base64'));
  assert.equal(rec.headers['x-timestamp'], undefined);
});

test('hmac: the caller cannot set the signature or timestamp headers', async () => {
  env.provider.reset();
  const r = await call(env.broker, 'POST', '/v/hmac/hmac/events', { headers: { ...auth(), 'x-signature': 'forged' }, body: '{}' });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-aivault-error'], 'auth_header_rejected');
  assert.equal(env.provider.requests.length, 0);
});

test('mtls: the client certificate from the vault is presented; the key never reaches the caller', async () => {
  mtlsSeen.length = 0;
  const r = await call(env.broker, 'GET', '/v/mtls/mtls/hello', { headers: auth() });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { ok: true, cn: 'aivault-test-client' });
  assert.equal(mtlsSeen.length, 1);
  assert.equal(mtlsSeen[0]!.authorized, true);
  assertNoLeak(r.body);
});

test('mtls: without the client certificate the server refuses the handshake (the test server really checks)', async () => {
  const port = (mtlsServer.address() as AddressInfo).port;
  const err = await new Promise<Error | undefined>((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, servername: MTLS_HOST, ca: testCa(), path: '/', headers: { host: MTLS_HOST } }, (res) => {
      res.resume();
      resolve(undefined);
    });
    req.on('error', (e) => resolve(e));
    req.end();
  });
  assert.ok(err, 'a client without a certificate is refused');
});

test('audit lines of all these requests carry no secret', () => {
  assertNoLeak(JSON.stringify(env.audit.events));
});
