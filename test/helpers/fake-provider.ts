/**
 * A local HTTPS server that impersonates API providers for tests (SPEC §8). It serves the
 * TEST-ONLY leaf certificate (SANs for every test host), records every request it receives and
 * answers with scripted replies. Point a broker at it with `provider.devEnv()`:
 *   startBroker({ ..., env: provider.devEnv() })      // in-process
 *   runCli([...], { env: { ...provider.devEnv() } })  // CLI / exec
 */
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';
import { TEST_CA_PATH, TEST_HOSTS, leafCert } from './tls.js';

export interface RecordedRequest {
  method: string;
  /** raw request target: path + query, exactly as received */
  url: string;
  path: string;
  query: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** TLS SNI the client sent */
  servername: string | undefined;
}

export type Reply = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface FakeProvider {
  readonly port: number;
  /** every request received, in order */
  readonly requests: RecordedRequest[];
  /** TLS handshakes attempted (also those that failed) */
  readonly connections: number;
  /** WebSocket upgrade requests received (any path): a WebSocket echo answers them; the message
   *  `whoami` is answered with the upgrade request's authorization header (a reflection test). */
  readonly upgrades: RecordedRequest[];
  /** Reply for `method` (or '*') and paths starting with `pathPrefix`; later routes win. */
  on(method: string, pathPrefix: string, reply: Reply): void;
  /** Reply when no route matches (default: 200 JSON echo of method, path and query). */
  setDefault(reply: Reply): void;
  /** Forget recorded requests and routes. */
  reset(): void;
  /** Env for a broker: AIVAULT_DEV_RESOLVE for `hosts` (default: all test hosts) + the test CA. */
  devEnv(hosts?: readonly string[]): { AIVAULT_DEV_RESOLVE: string; AIVAULT_DEV_CA_CERT_PATH: string };
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What the fake provider keeps of a request (or an upgrade, with an empty body). */
function recordOf(req: http.IncomingMessage, body: Buffer): RecordedRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    url,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body,
    servername: (req.socket as unknown as { servername?: string }).servername,
  };
}

export async function startFakeProvider(opts: { cert?: { cert: string; key: string } } = {}): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  let routes: Array<{ method: string; prefix: string; reply: Reply }> = [];
  let fallback: Reply = reply.echo();
  const sockets = new Set<Socket>();
  let connections = 0;
  const upgrades: RecordedRequest[] = [];

  const server = https.createServer({ ...(opts.cert ?? leafCert()), keepAlive: true }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const rec = recordOf(req, Buffer.concat(parts));
      requests.push(rec);
      const route = [...routes].reverse().find((r) => (r.method === '*' || r.method === rec.method) && rec.path.startsWith(r.prefix));
      Promise.resolve((route?.reply ?? fallback)(rec, res)).catch(() => res.destroy());
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => void 0);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const rec = recordOf(req, Buffer.alloc(0));
    upgrades.push(rec);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? undefined : String(data);
        if (text === 'whoami') ws.send(`auth=${String(req.headers.authorization)}`);
        else if (text === 'close') ws.close(4001, 'bye');
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    requests,
    get connections() {
      return connections;
    },
    upgrades,
    on(method, prefix, r) {
      routes.push({ method: method.toUpperCase(), prefix, reply: r });
    },
    setDefault(r) {
      fallback = r;
    },
    reset() {
      requests.length = 0;
      upgrades.length = 0;
      routes = [];
      fallback = reply.echo();
    },
    devEnv(hosts = TEST_HOSTS) {
      return {
        AIVAULT_DEV_RESOLVE: hosts.map((h) => `${h}=127.0.0.1:${port}`).join(','),
        AIVAULT_DEV_CA_CERT_PATH: TEST_CA_PATH,
      };
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}

/** Scripted replies. */
export const reply = {
  /** 200 JSON {method, path, query, bodyLength} */
  echo(): Reply {
    return (req, res) => {
      const body = JSON.stringify({ method: req.method, path: req.path, query: req.query, bodyLength: req.body.length });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    };
  },
  json(status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): Reply {
    return (_req, res) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
  },
  /** Body sent as the given chunks (chunked transfer encoding), `delayMs` apart. */
  chunked(chunks: Array<string | Buffer>, opts: { delayMs?: number; status?: number; headers?: http.OutgoingHttpHeaders } = {}): Reply {
    return async (_req, res) => {
      res.writeHead(opts.status ?? 200, { 'content-type': 'text/plain', ...opts.headers });
      res.flushHeaders();
      for (const c of chunks) {
        if (res.destroyed) return;
        res.write(c);
        if (opts.delayMs) await sleep(opts.delayMs);
      }
      res.end();
    };
  },
  /** Server-sent events: each item is one `data:` event (objects are JSON-encoded). */
  sse(events: unknown[], opts: { delayMs?: number; done?: string | false } = {}): Reply {
    return async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      for (const e of events) {
        if (res.destroyed) return;
        res.write(typeof e === 'string' ? e : `data: ${JSON.stringify(e)}\n\n`);
        if (opts.delayMs) await sleep(opts.delayMs);
      }
      if (opts.done !== false) res.write(opts.done ?? 'data: [DONE]\n\n');
      res.end();
    };
  },
  /** JSON body gzip-compressed (content-encoding: gzip), in `pieces` chunks. */
  gzipJson(body: unknown, opts: { pieces?: number; encoding?: 'gzip' | 'deflate' | 'br' } = {}): Reply {
    return async (_req, res) => {
      const raw = Buffer.from(JSON.stringify(body));
      const enc = opts.encoding ?? 'gzip';
      const z = enc === 'gzip' ? zlib.gzipSync(raw) : enc === 'deflate' ? zlib.deflateSync(raw) : zlib.brotliCompressSync(raw);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': enc });
      const n = Math.max(1, opts.pieces ?? 1);
      const size = Math.ceil(z.length / n);
      for (let i = 0; i < z.length; i += size) {
        res.write(z.subarray(i, i + size));
        await sleep(2);
      }
      res.end();
    };
  },
  redirect(location: string, status = 302): Reply {
    return (_req, res) => {
      res.writeHead(status, { location, 'content-length': 0 });
      res.end();
    };
  },
  /** Send headers and `first`, then reset the connection. */
  resetAfter(first: string | Buffer): Reply {
    return async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(first);
      await sleep(20);
      res.socket?.destroy();
    };
  },
  /** Never answer. */
  hang(): Reply {
    return () => undefined;
  },
  /** Reply with the recorded request's own auth material reflected in body and headers. */
  reflect(pick: (req: RecordedRequest) => string, opts: { chunkSize?: number; headerNames?: string[] } = {}): Reply {
    return async (req, res) => {
      const value = pick(req);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain' };
      for (const h of opts.headerNames ?? ['x-echo-secret']) headers[h] = `value=${value}`;
      res.writeHead(200, headers);
      const body = Buffer.from(`before ${value} middle ${value} after`);
      const size = opts.chunkSize ?? body.length;
      for (let i = 0; i < body.length; i += size) {
        res.write(body.subarray(i, i + size));
        await sleep(1);
      }
      res.end();
    };
  },
};

/** An OpenAI chat completions reply: SSE chunks ("str", "eam", "ed") when the body asks to stream, else one completion. */
export function openaiChatReply(req: RecordedRequest, res: http.ServerResponse): void {
  const body = JSON.parse(req.body.toString() || '{}') as { stream?: boolean };
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const piece of ['str', 'eam', 'ed']) {
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
    return;
  }
  const text = JSON.stringify({
    id: 'c0',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-test',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hello from fake openai' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(text);
}
