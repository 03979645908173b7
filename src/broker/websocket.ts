/**
 * WebSocket upgrades (SPEC §10): an `Upgrade: websocket` request to a granted capability's path,
 * through passthrough `/v/...` or inside an intercepted connection, runs the same policy pipeline
 * as any request (token, capability, traversal, caller auth refused, auth injected). The broker
 * then performs BOTH handshakes itself with `ws`: it opens the upstream WebSocket (auth injected on
 * that upgrade request, its own Sec-WebSocket-Key, connection to the checked address only) and,
 * once the upstream accepted, accepts the caller's. Messages are relayed both ways; messages from
 * the upstream are redacted like any response body. No `sec-websocket-*` header crosses from one
 * side to the other (the caller's key never reaches the upstream, the upstream's accept never
 * reaches the caller). Compression (permessage-deflate) is off on both sides so messages can be
 * inspected. One audit `request` line per upgrade (status 101 when relayed).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { BROKER_ERROR_STATUS } from '../errors/codes.js';
import { toDenial, deny } from './errors.js';
import type { Approved, RequestRecord } from './pipeline.js';
import type { BrokerCore } from './serve.js';

type Ws = typeof import('ws');

let wsLib: Promise<Ws> | undefined;
/** ws is CommonJS: a bundler may hand its exports over as the namespace's `default`. */
function loadWs(): Promise<Ws> {
  wsLib ??= import('ws').then((m) => ((m as Ws & { default?: Ws }).WebSocketServer ? m : (m as unknown as { default: Ws }).default));
  return wsLib;
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** Write a §6 error on a raw socket (no ServerResponse exists for an upgrade request). */
export function rawError(socket: Duplex, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${status === 407 ? 'Proxy Authentication Required' : status === 403 ? 'Forbidden' : 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-aivault-error: ${code}`,
    'cache-control: no-store',
    'connection: close',
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  if (socket.writable) socket.end(head.join('\r\n') + '\r\n\r\n' + body);
  setTimeout(() => socket.destroy(), 1_000).unref();
}

const CLOSE_OK = (code: number): number => (code >= 1000 && code <= 4999 && code !== 1004 && code !== 1005 && code !== 1006 && code !== 1015 ? code : 1011);

export async function handleUpgrade(
  core: BrokerCore,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  rec: RequestRecord,
  approve: () => Promise<Approved>,
): Promise<void> {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  let approved: Approved;
  let ws: Ws;
  try {
    if (!isWebSocketUpgrade(req)) throw deny('invalid_request', 'only WebSocket upgrades are supported');
    if (req.method !== 'GET') throw deny('invalid_request', 'a WebSocket upgrade uses GET');
    if (!/^[+/0-9A-Za-z]{22}==$/.test(String(req.headers['sec-websocket-key'] ?? '')) || req.headers['sec-websocket-version'] !== '13')
      throw deny('invalid_request', 'a WebSocket upgrade needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13');
    approved = await approve();
    // the relay dials the checked address itself: it does not speak to an outbound proxy (yet)
    if (core.ctx.upstream.viaProxy(approved.target)) throw deny('upstream_error', 'WebSocket upgrades cannot go through the outbound proxy the broker is configured with');
    ws = await loadWs();
  } catch (e) {
    const d = toDenial(e);
    rawError(socket, BROKER_ERROR_STATUS[d.code], d.code, d.message);
    core.audit(rec, BROKER_ERROR_STATUS[d.code], d.code, started, 0);
    return;
  }

  const tlsOpts = await core.ctx.upstream.tlsOptions(approved.target);
  const tls = await import('node:tls');
  const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s));
  const headers = { ...approved.headers };
  delete headers['accept-encoding'];
  const upstream = new ws.WebSocket(`wss://${approved.target.host}${approved.path}`, protocols, {
    headers,
    perMessageDeflate: false,
    handshakeTimeout: core.idleMs,
    followRedirects: false,
    maxPayload: 0,
    createConnection: () => tls.connect(tlsOpts),
  });
  let settled = false;
  const fail = (status: number, code: 'upstream_error' | 'upstream_timeout', message: string): void => {
    if (settled) return;
    settled = true;
    rawError(socket, status, code, message);
    core.audit(rec, status, code, started, 0);
    upstream.terminate();
  };
  upstream.on('unexpected-response', (_r, res) => {
    res.resume();
    fail(502, 'upstream_error', `the upstream refused the WebSocket upgrade (HTTP ${res.statusCode ?? 0})`);
  });
  upstream.on('error', (e) => {
    const timeout = /timeout|timed out/i.test(String((e as Error).message));
    fail(timeout ? 504 : 502, timeout ? 'upstream_timeout' : 'upstream_error', 'the upstream WebSocket connection failed');
  });
  socket.on('close', () => {
    if (!settled) {
      settled = true;
      core.audit(rec, 499, 'upstream_error', started, 0);
    }
    upstream.terminate();
  });
  upstream.on('open', () => {
    if (settled) return;
    settled = true;
    const server = new ws.WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: 0,
      handleProtocols: () => (upstream.protocol ? upstream.protocol : false),
    });
    let bytes = 0;
    server.handleUpgrade(req, socket, head, (client) => {
      core.audit(rec, 101, undefined, started, 0);
      const redact = (data: Buffer): Buffer => Buffer.concat([approved.redactor.push(data), approved.redactor.end()]);
      const asBuf = (d: import('ws').RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));
      upstream.on('message', (data, isBinary) => {
        const out = redact(asBuf(data));
        bytes += out.length;
        if (client.readyState === client.OPEN) client.send(isBinary ? out : out.toString('utf8'), { binary: isBinary });
      });
      client.on('message', (data, isBinary) => {
        if (upstream.readyState === upstream.OPEN) upstream.send(asBuf(data), { binary: isBinary });
      });
      upstream.on('close', (code, reason) => {
        if (client.readyState === client.OPEN) client.close(CLOSE_OK(code), redact(reason).subarray(0, 123));
        else client.terminate();
      });
      client.on('close', (code, reason) => {
        if (upstream.readyState === upstream.OPEN) upstream.close(CLOSE_OK(code), reason.subarray(0, 123));
        else upstream.terminate();
      });
      client.on('error', () => upstream.terminate());
      upstream.on('error', () => client.terminate());
      void bytes;
    });
  });
}
