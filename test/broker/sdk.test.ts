/**
 * Official SDKs, unmodified, complete calls through passthrough with only baseURL + apiKey set to
 * the broker URL and the run token. The fake provider checks it got the real key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { setup, SENTINEL, leaks, type Env } from './setup.js';
import type { RecordedRequest } from '../helpers/fake-provider.js';
import type http from 'node:http';

let env: Env;
let token: string;
before(async () => {
  env = await setup();
  token = env.broker.mintToken({ runId: 'sdk-run', capabilities: ['openai/chat-completions', 'anthropic/messages'] });
});
after(() => env.close());

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello from fake' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
};

function chunk(content: string, finish: string | null = null) {
  return { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { content }, finish_reason: finish }] };
}

/** Only answers when the upstream received the real key (like a real provider). */
function requireKey(header: string, expected: string, ok: (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>) {
  return (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.headers[header] !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"bad key"}}');
      return;
    }
    return ok(req, res);
  };
}

test('openai SDK: chat.completions.create (non-streaming)', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/chat/completions', requireKey('authorization', `Bearer ${SENTINEL.OPENAI_API_KEY}`, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion));
  }));
  const client = new OpenAI({ baseURL: `${env.broker.baseUrl}/v/openai/v1`, apiKey: token, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.choices[0]!.message.content, 'hello from fake');
  assert.equal(env.provider.requests.length, 1);
  const got = env.provider.requests[0]!;
  assert.equal(got.path, '/v1/chat/completions');
  assert.equal(JSON.parse(got.body.toString()).model, 'gpt-test');
  // the run token never reaches the upstream
  assert.equal(JSON.stringify(got.headers).includes(token), false);
});

test('openai SDK: chat.completions.create({stream:true}) yields every chunk in order', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/chat/completions', requireKey('authorization', `Bearer ${SENTINEL.OPENAI_API_KEY}`, (req, res) => {
    assert.equal(JSON.parse(req.body.toString()).stream, true);
    const words = ['one', ' two', ' three'];
    return (async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const w of words) {
        res.write(`data: ${JSON.stringify(chunk(w))}\n\n`);
        await new Promise((r) => setTimeout(r, 30));
      }
      res.write(`data: ${JSON.stringify(chunk('', 'stop'))}\n\n`);
      res.end('data: [DONE]\n\n');
    })();
  }));
  const client = new OpenAI({ baseURL: `${env.broker.baseUrl}/v/openai/v1`, apiKey: token, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const got: string[] = [];
  for await (const c of stream) got.push(c.choices[0]?.delta.content ?? '');
  assert.deepEqual(got, ['one', ' two', ' three', '']);
});

test('openai SDK: an upstream 401 surfaces as an SDK error without the key', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/chat/completions', (_q, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${SENTINEL.OPENAI_API_KEY}` } }));
  });
  const client = new OpenAI({ baseURL: `${env.broker.baseUrl}/v/openai/v1`, apiKey: token, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.APIError);
    assert.equal(e.status, 401);
    assert.deepEqual(leaks(String(e.message) + JSON.stringify(e.error ?? {})), []);
    assert.match(String(e.message), /\[REDACTED\]/);
    return true;
  });
});

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-test',
  content: [{ type: 'text', text: 'hi from fake claude' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 4 },
};

function anthropicSse(): string[] {
  const ev = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    ev('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 1, output_tokens: 0 } } }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } }),
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }),
    ev('message_stop', { type: 'message_stop' }),
  ];
}

test('anthropic SDK: messages.create with apiKey (x-api-key) and authToken (Bearer)', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/messages', requireKey('x-api-key', SENTINEL.ANTHROPIC_API_KEY, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(message));
  }));
  const viaKey = new Anthropic({ baseURL: `${env.broker.baseUrl}/v/anthropic`, apiKey: token, authToken: null, maxRetries: 0 });
  const r1 = await viaKey.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((r1.content[0] as { text: string }).text, 'hi from fake claude');
  const viaBearer = new Anthropic({ baseURL: `${env.broker.baseUrl}/v/anthropic`, apiKey: null, authToken: token, maxRetries: 0 });
  const r2 = await viaBearer.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r2.id, 'msg_1');
  assert.equal(env.provider.requests.length, 2);
  for (const q of env.provider.requests) {
    assert.equal(q.headers['x-api-key'], SENTINEL.ANTHROPIC_API_KEY);
    assert.equal(q.headers.authorization, undefined, 'the Bearer run token is consumed, not forwarded');
  }
});

test('anthropic SDK: messages.stream and messages.create({stream:true})', async () => {
  env.provider.reset();
  env.provider.on('POST', '/v1/messages', requireKey('x-api-key', SENTINEL.ANTHROPIC_API_KEY, async (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of anthropicSse()) {
      res.write(e);
      await new Promise((r) => setTimeout(r, 10));
    }
    res.end();
  }));
  const client = new Anthropic({ baseURL: `${env.broker.baseUrl}/v/anthropic`, apiKey: token, authToken: null, maxRetries: 0 });
  const s = client.messages.stream({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  const texts: string[] = [];
  s.on('text', (t) => texts.push(t));
  const final = await s.finalMessage();
  assert.deepEqual(texts, ['Hel', 'lo']);
  assert.equal((final.content[0] as { text: string }).text, 'Hello');

  const raw = await client.messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true });
  const types: string[] = [];
  for await (const ev of raw) types.push(ev.type);
  assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
});

test('SDK runs left nothing secret in the audit log', () => {
  const text = JSON.stringify(env.audit.events);
  assert.deepEqual(leaks(text), []);
  assert.equal(text.includes(token), false);
  const reqs = env.audit.events.filter((e) => e.event === 'request');
  assert.ok(reqs.length >= 6);
  for (const e of reqs) assert.equal(e.runId, 'sdk-run');
});
