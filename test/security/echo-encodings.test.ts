/**
 * Issue 13: an upstream that echoes the injected key in any encoding (raw, URL-encoded, base64,
 * base64url, hex, upper-case hex, JSON-escaped) must not get it to the child: not in a plain body
 * written a few bytes at a time, not in an event stream split mid-value, not gzip- or
 * brotli-compressed, not in a response header; with header auth (openai) and query auth (gemini).
 * The forms echoed and the forms looked for both come from the independent oracle
 * (test/helpers/leak-oracle.ts), never from src/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import zlib from 'node:zlib';
import { startFakeProvider, type FakeProvider, type RecordedRequest } from '../helpers/fake-provider.js';
import { leakForms, sentinelShapeProblems, type LeakFormName } from '../helpers/leak-oracle.js';
import { attack, assertNoLeak, makeLab, sentinel, type Lab } from './helpers/harness.js';

let provider: FakeProvider;
let lab: Lab;

before(async () => {
  provider = await startFakeProvider();
  // lengths 0 and 1 mod 3 (base64 with and without padding), both with '+' and '/' in base64
  lab = await makeLab(provider, { OPENAI_API_KEY: sentinel('echo-openai', 1), GEMINI_API_KEY: sentinel('echo-gemini', 0) });
});
after(async () => {
  lab.cleanup();
  await provider.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** every encoding an echo may use (the tail is a fragment the oracle also scans for, not an encoding) */
const ECHOED = (Object.keys(leakForms('x')) as LeakFormName[]).filter((n) => n !== 'tail');
const MODES = ['plain', 'sse', 'gzip', 'br', 'header'] as const;

/** The key the broker injected, as the upstream received it. */
function keyOf(req: RecordedRequest): string {
  const auth = String(req.headers.authorization ?? '');
  if (auth.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  return new URLSearchParams(req.query).get('key') ?? '';
}

/** `size`-byte writes, pausing every few writes so they reach the broker as separate reads. */
async function writeSlowly(res: http.ServerResponse, data: Buffer, size: number): Promise<void> {
  for (let i = 0, n = 0; i < data.length; i += size, n++) {
    res.write(data.subarray(i, i + size));
    if (n % 4 === 3) await sleep(1);
  }
  res.end();
}

/** Echo every encoding of the received key, in the mode named by the x-echo-mode request header. */
async function echo(req: RecordedRequest, res: http.ServerResponse): Promise<void> {
  const forms = leakForms(keyOf(req));
  const mode = String(req.headers['x-echo-mode']);
  const body = Buffer.from(ECHOED.map((n) => `${n}=<${forms[n]}>`).join('\n'));
  if (mode === 'header') {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain' };
    for (const n of ECHOED) headers[`x-echo-${n}`] = `v=${forms[n]}`;
    res.writeHead(200, headers);
    return void res.end('headers only');
  }
  if (mode === 'sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    // each value split in the middle across two writes
    for (const n of ECHOED) {
      const f = forms[n];
      res.write(`data: {"${n}":"${f.slice(0, f.length >> 1)}`);
      await sleep(2);
      res.write(`${f.slice(f.length >> 1)}"}\n\n`);
    }
    return void res.end('data: [DONE]\n\n');
  }
  if (mode === 'gzip' || mode === 'br') {
    const z = mode === 'gzip' ? zlib.gzipSync(body) : zlib.brotliCompressSync(body);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': mode });
    return writeSlowly(res, z, 7);
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  return writeSlowly(res, body, 5);
}

test('the sentinels used here have the shapes that tell encodings apart', () => {
  for (const v of Object.values(lab.secrets)) assert.deepEqual(sentinelShapeProblems(v), [], v);
  assert.notEqual(lab.secrets.OPENAI_API_KEY!.length % 3, lab.secrets.GEMINI_API_KEY!.length % 3);
});

test('every encoding of the key echoed by the upstream (plain, SSE, gzip, br, headers; header and query auth) is redacted before the child sees it', async () => {
  provider.reset();
  provider.on('POST', '/v1/chat/completions', echo);
  provider.on('GET', '/v1beta/models', echo);
  const attempts = MODES.flatMap((mode) => [
    { name: `openai-${mode}`, method: 'POST', target: '/v/openai/v1/chat/completions', body: '{}', headers: [['x-echo-mode', mode]] },
    { name: `gemini-${mode}`, method: 'GET', target: '/v/gemini/v1beta/models', headers: [['x-echo-mode', mode]] },
  ]);
  const r = await attack(lab, { allow: ['openai/chat-completions', 'gemini/models'], plan: { attempts } });
  assert.equal(r.code, 0, r.stderr);
  // the upstream really got the real keys (so it really echoed them), once per attempt
  assert.equal(provider.requests.length, attempts.length);
  for (const q of provider.requests) assert.ok(Object.values(lab.secrets).includes(keyOf(q)), `upstream saw ${q.url}`);
  for (const a of attempts) {
    const res = r.result(a.name);
    assert.equal(res.status, 200, `${a.name}: ${res.raw.slice(0, 300)}`);
    const text = a.name.endsWith('-header') ? res.headers : res.body;
    // not vacuous: every echoed value arrived, redacted (no empty body passes)
    for (const n of ECHOED) assert.match(text, new RegExp(`${n}(=<|": ?"|: v=)\\[REDACTED\\]`), `${a.name}: ${n}`);
    assertNoLeak(res.raw + res.body + res.headers, lab.secrets, `${a.name}`);
  }
  assertNoLeak(r.observed, lab.secrets);
});
