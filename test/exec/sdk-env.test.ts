/**
 * Issue 11 item 7: every provider whose SDKs read a key or base URL from the environment gets those
 * variables in a run, pointed at the broker and holding the run token. For each provider the child
 * builds the URL the way its SDK does (documented per row: the SDK's default base and the path it
 * appends), sends the run token where the SDK puts its key, and the upstream (a fake provider with a
 * test-CA leaf for all these hosts) receives the real path and the real key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { TEST_CA_PATH, TLS_DIR } from '../helpers/tls.js';
import { tempDir } from '../helpers/tmp.js';
import { FX, launch, NODE, vaultWith } from './launch.js';

interface Row {
  provider: string;
  cap: string;
  host: string;
  secretName: string;
  /** env var holding the base URL (undefined: the SDK reads only a key) */
  base?: string;
  /** path the SDK appends to the base URL */
  rel?: string;
  method?: string;
  /** header the SDK puts its key in, and how */
  keyVar: string;
  keyHeader?: [string, (k: string) => string];
  /** what the upstream must receive */
  upstreamPath?: string;
  auth?: (secret: string) => [string, string];
  why: string;
}

const bearer: [string, (k: string) => string] = ['authorization', (k) => `Bearer ${k}`];
const bearerUp = (s: string): [string, string] => ['authorization', `Bearer ${s}`];

const ROWS: Row[] = [
  { provider: 'groq', cap: 'groq/chat-completions', host: 'api.groq.com', secretName: 'GROQ_API_KEY', base: 'GROQ_BASE_URL', rel: '/openai/v1/chat/completions', keyVar: 'GROQ_API_KEY', keyHeader: bearer, upstreamPath: '/openai/v1/chat/completions', auth: bearerUp, why: 'groq-sdk: base https://api.groq.com' },
  { provider: 'groq', cap: 'groq/chat-completions', host: 'api.groq.com', secretName: 'GROQ_API_KEY', base: 'GROQ_BASE_URL', rel: '/chat/completions', keyVar: 'GROQ_API_KEY', keyHeader: bearer, upstreamPath: '/openai/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=GROQ_BASE_URL (apiRoot /openai/v1)' },
  { provider: 'together', cap: 'together/chat-completions', host: 'api.together.xyz', secretName: 'TOGETHER_API_KEY', base: 'TOGETHER_BASE_URL', rel: '/chat/completions', keyVar: 'TOGETHER_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: 'together-ai: base https://api.together.ai/v1' },
  { provider: 'cerebras', cap: 'cerebras/chat-completions', host: 'api.cerebras.ai', secretName: 'CEREBRAS_API_KEY', base: 'CEREBRAS_BASE_URL', rel: '/v1/chat/completions', keyVar: 'CEREBRAS_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: '@cerebras/cerebras_cloud_sdk: base https://api.cerebras.ai' },
  { provider: 'cerebras', cap: 'cerebras/chat-completions', host: 'api.cerebras.ai', secretName: 'CEREBRAS_API_KEY', base: 'CEREBRAS_BASE_URL', rel: '/chat/completions', keyVar: 'CEREBRAS_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=CEREBRAS_BASE_URL (apiRoot /v1)' },
  { provider: 'perplexity', cap: 'perplexity/chat-completions', host: 'api.perplexity.ai', secretName: 'PERPLEXITY_API_KEY', base: 'PERPLEXITY_BASE_URL', rel: '/chat/completions', keyVar: 'PERPLEXITY_API_KEY', keyHeader: bearer, upstreamPath: '/chat/completions', auth: bearerUp, why: '@perplexity-ai/perplexity_ai: base https://api.perplexity.ai' },
  { provider: 'xai', cap: 'xai/chat-completions', host: 'api.x.ai', secretName: 'XAI_API_KEY', base: 'XAI_BASE_URL', rel: '/chat/completions', keyVar: 'XAI_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=XAI_BASE_URL' },
  { provider: 'deepseek', cap: 'deepseek/chat-completions', host: 'api.deepseek.com', secretName: 'DEEPSEEK_API_KEY', base: 'DEEPSEEK_BASE_URL', rel: '/chat/completions', keyVar: 'DEEPSEEK_API_KEY', keyHeader: bearer, upstreamPath: '/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=DEEPSEEK_BASE_URL' },
  { provider: 'mistral', cap: 'mistral/chat-completions', host: 'api.mistral.ai', secretName: 'MISTRAL_API_KEY', base: 'MISTRAL_BASE_URL', rel: '/v1/chat/completions', keyVar: 'MISTRAL_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: '@mistralai/mistralai with serverURL=MISTRAL_BASE_URL' },
  { provider: 'mistral', cap: 'mistral/chat-completions', host: 'api.mistral.ai', secretName: 'MISTRAL_API_KEY', base: 'MISTRAL_BASE_URL', rel: '/chat/completions', keyVar: 'MISTRAL_API_KEY', keyHeader: bearer, upstreamPath: '/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=MISTRAL_BASE_URL (apiRoot /v1)' },
  { provider: 'fireworks', cap: 'fireworks/chat-completions', host: 'api.fireworks.ai', secretName: 'FIREWORKS_API_KEY', base: 'FIREWORKS_BASE_URL', rel: '/chat/completions', keyVar: 'FIREWORKS_API_KEY', keyHeader: bearer, upstreamPath: '/inference/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=FIREWORKS_BASE_URL (apiRoot /inference/v1)' },
  { provider: 'openrouter', cap: 'openrouter/chat-completions', host: 'openrouter.ai', secretName: 'OPENROUTER_API_KEY', base: 'OPENROUTER_BASE_URL', rel: '/chat/completions', keyVar: 'OPENROUTER_API_KEY', keyHeader: bearer, upstreamPath: '/api/v1/chat/completions', auth: bearerUp, why: 'openai SDK with baseURL=OPENROUTER_BASE_URL (apiRoot /api/v1)' },
  { provider: 'gemini', cap: 'gemini/generate-content', host: 'generativelanguage.googleapis.com', secretName: 'GEMINI_API_KEY', base: 'GOOGLE_GEMINI_BASE_URL', rel: '/v1beta/models/gemini-test:generateContent', keyVar: 'GEMINI_API_KEY', keyHeader: ['x-goog-api-key', (k) => k], upstreamPath: '/v1beta/models/gemini-test:generateContent', why: '@google/genai: base https://generativelanguage.googleapis.com, key in x-goog-api-key' },
  { provider: 'resend', cap: 'resend/emails', host: 'api.resend.com', secretName: 'RESEND_API_KEY', base: 'RESEND_BASE_URL', rel: '/emails', keyVar: 'RESEND_API_KEY', keyHeader: bearer, upstreamPath: '/emails', auth: bearerUp, why: 'resend: base https://api.resend.com' },
  { provider: 'cohere', cap: 'cohere/chat', host: 'api.cohere.com', secretName: 'COHERE_API_KEY', keyVar: 'CO_API_KEY', why: 'cohere-ai reads CO_API_KEY only' },
  { provider: 'replicate', cap: 'replicate/predictions', host: 'api.replicate.com', secretName: 'REPLICATE_API_TOKEN', keyVar: 'REPLICATE_API_TOKEN', why: 'replicate reads REPLICATE_API_TOKEN only' },
];

const HOSTS = [...new Set(ROWS.map((r) => r.host))];
const secretOf = (name: string) => `sk-SENTINEL-sdkenv-${name.toLowerCase()}-7f3a`;
let fake: FakeProvider;
let vault = '';

/** A leaf for every host above, signed by the test CA (fixtures/tls/ca.key), made with openssl. */
function leafFor(hosts: string[]): { cert: string; key: string } {
  const dir = tempDir('aivault-sdkenv-tls-');
  const ext = path.join(dir, 'leaf.ext');
  fs.writeFileSync(ext, `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl ${args[0]}: ${r.stderr}`);
  };
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=sdkenv']);
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', TEST_CA_PATH, '-CAkey', path.join(TLS_DIR, 'ca.key'), '-CAcreateserial', '-CAserial', path.join(dir, 'ca.srl'), '-out', 'leaf.pem', '-days', '2', '-extfile', ext]);
  return { cert: fs.readFileSync(path.join(dir, 'leaf.pem'), 'utf8'), key: fs.readFileSync(path.join(dir, 'leaf.key'), 'utf8') };
}

before(async () => {
  fake = await startFakeProvider({ cert: leafFor(HOSTS) });
  vault = await vaultWith(Object.fromEntries(ROWS.map((r) => [r.secretName, secretOf(r.secretName)])));
});
after(async () => {
  await fake.close();
});

test('sdkEnv: each SDK-shaped request reaches the provider with the real key; key-only SDKs get the run token', async () => {
  const child = `
    const rows = JSON.parse(process.argv[1]);
    const out = [];
    for (const r of rows) {
      const env = { base: r.base ? process.env[r.base] : undefined, key: process.env[r.keyVar], token: process.env.AIVAULT_TOKEN, baseUrl: process.env.AIVAULT_BASE_URL };
      if (!r.base) { out.push({ keyIsToken: env.key === env.token }); continue; }
      const res = await fetch(env.base + r.rel, { method: 'POST', headers: { 'content-type': 'application/json', [r.keyHeader]: r.keyFormat.replace('KEY', env.key) }, body: '{}' });
      out.push({ status: res.status, keyIsToken: env.key === env.token, baseIsBroker: env.base.startsWith(env.baseUrl + '/v/' + r.provider) });
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const rows = ROWS.map((r) => ({ provider: r.provider, base: r.base, rel: r.rel, keyVar: r.keyVar, keyHeader: r.keyHeader?.[0], keyFormat: r.keyHeader?.[1]('KEY') }));
  const allow = [...new Set(ROWS.map((r) => r.cap))].join(',');
  const r = await launch(['--allow', allow, '--', NODE, '--input-type=module', '-e', child, JSON.stringify(rows)], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv(HOSTS) },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as Array<{ status?: number; keyIsToken: boolean; baseIsBroker?: boolean }>;
  const sent = ROWS.filter((row) => row.base);
  assert.equal(fake.requests.length, sent.length);
  let i = 0;
  ROWS.forEach((row, n) => {
    const o = out[n]!;
    assert.equal(o.keyIsToken, true, `${row.provider}: ${row.keyVar} holds the run token (${row.why})`);
    if (!row.base) return;
    assert.equal(o.status, 200, `${row.provider}: ${row.why}`);
    assert.equal(o.baseIsBroker, true, `${row.provider}: ${row.base} points at the broker`);
    const q = fake.requests[i++]!;
    assert.equal(q.servername, row.host, row.why);
    assert.equal(q.path, row.upstreamPath, row.why);
    const secret = secretOf(row.secretName);
    if (row.auth) assert.equal(q.headers[row.auth(secret)[0]], row.auth(secret)[1], row.why);
    else assert.equal(q.query, `key=${secret}`, `${row.why}: query auth injected`);
  });
  assert.ok(!r.stdout.toString().includes('SENTINEL') && !r.stderr.includes('SENTINEL'));
});

test('@google/genai and groq-sdk work unmodified with the sdkEnv of their providers', async () => {
  fake.reset();
  fake.on('POST', '/v1beta/models', (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'hello from fake gemini' }] }, finishReason: 'STOP' }] }));
  });
  fake.on('POST', '/openai/v1/chat/completions', (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: 'groq-test', choices: [{ index: 0, message: { role: 'assistant', content: 'hello from fake groq' }, finish_reason: 'stop' }] }));
  });
  const r = await launch(['--allow', 'gemini/generate-content,groq/chat-completions', '--', NODE, path.join(FX, 'sdk-gemini-groq.mjs')], {
    env: { AIVAULT_DIR: vault, ...fake.devEnv(HOSTS) },
  }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.toString()), { gemini: 'hello from fake gemini', groq: 'hello from fake groq' });
  const [g, q] = fake.requests;
  assert.equal(g!.path, '/v1beta/models/gemini-test:generateContent');
  assert.equal(g!.query, `key=${secretOf('GEMINI_API_KEY')}`, 'the x-goog-api-key token became the real key= parameter');
  assert.equal(g!.headers['x-goog-api-key'], undefined);
  assert.equal(q!.path, '/openai/v1/chat/completions');
  assert.equal(q!.headers.authorization, `Bearer ${secretOf('GROQ_API_KEY')}`);
});
