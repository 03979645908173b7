import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface MockOpenAI {
  port: number;
  /** What the mock received: method, path, and whether the Authorization header carried the real key. */
  seen: Array<{ method: string; path: string; authorizedWithRealKey: boolean }>;
  close(): Promise<void>;
}

/**
 * A tiny local stand-in for api.openai.com, for `aivault demo`: answers chat completions (plain and
 * SSE) when called with the demo's throwaway key, 401 otherwise. It never echoes the key.
 */
export async function startMockOpenAI(tls: { cert: string; key: string }, realKey: string): Promise<MockOpenAI> {
  const seen: MockOpenAI['seen'] = [];
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const authorized = req.headers.authorization === `Bearer ${realKey}`;
      seen.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, authorizedWithRealKey: authorized });
      if (!authorized) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not found in the demo mock' } }));
        return;
      }
      let body: { messages?: Array<{ content?: unknown }>; stream?: boolean } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        /* answered below with a generic reply */
      }
      const last = body.messages?.at(-1)?.content;
      const reply = `Hello from the local mock of api.openai.com. You said: ${typeof last === 'string' ? last : '(nothing)'}`;
      const base = { id: 'chatcmpl-demo', created: Math.floor(Date.now() / 1000), model: 'gpt-demo' };
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const word of reply.split(/(?<= )/)) {
          res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`);
        }
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 },
      }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
