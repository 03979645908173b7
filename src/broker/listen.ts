/**
 * The broker's doors, opened before the broker itself. `aivault exec` binds 127.0.0.1:<random
 * port> (and, for `--sandbox-net=broker`, the sandbox's unix socket), mints the token and spawns
 * the command at once; the policy pipeline, undici and TLS load while the command boots (start-up
 * is a product feature, README "Start-up"). Whatever reaches a door before the broker attaches
 * waits here, in arrival order, and is handed to the broker when it does: an early request is
 * late, never lost and never unchecked.
 *
 * Only node:http and node:net are loaded here (about 2 ms once child_process and net are in).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AivaultError } from '../errors/aivault-error.js';

export const DEFAULT_IDLE_MS = 120_000;

/** What arrived before the broker attached, in order. */
export type EarlyEvent =
  | { kind: 'request'; req: IncomingMessage; res: ServerResponse }
  | { kind: 'connect' | 'upgrade'; req: IncomingMessage; socket: Duplex; head: Buffer };

/** The handlers the broker installs when it attaches. */
export interface DoorHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A door failed (server error or unexpected close) after attaching. */
  fatal(err: Error): void;
}

export interface BrokerListener {
  readonly server: http.Server;
  readonly port: number;
  /** Connections that came through the unix socket (their peer is the run's own sandbox). */
  readonly unixPeers: WeakSet<Socket>;
  /** Installs the broker's handlers and replays what waited; once. */
  attach(h: DoorHandlers): void;
  /** Closes both doors (the http server's connections are the broker's to close). */
  close(onClosed?: () => void): void;
}

export interface ListenOptions {
  /** Also serve on this unix socket (`--sandbox-net=broker`). */
  unixSocket?: string | undefined;
  /** keep-alive idle timeout of the http server (default 120 s). */
  idleTimeoutMs?: number | undefined;
}

export async function openBrokerListener(opts: ListenOptions = {}): Promise<BrokerListener> {
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const server = http.createServer({
    keepAlive: true,
    keepAliveTimeout: idleMs,
    headersTimeout: 30_000,
    requestTimeout: 0,
    connectionsCheckingInterval: 5_000,
  });
  const unixPeers = new WeakSet<Socket>();
  let early: EarlyEvent[] | undefined = [];
  let earlyError: Error | undefined;
  let handlers: DoorHandlers | undefined;
  let closing = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (handlers) handlers.request(req, res);
    else early!.push({ kind: 'request', req, res });
  };
  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (handlers) handlers.connect(req, socket, head);
    else early!.push({ kind: 'connect', req, socket, head });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (handlers) handlers.upgrade(req, socket, head);
    else early!.push({ kind: 'upgrade', req, socket, head });
  };
  const onFailure = (e: Error): void => {
    if (closing) return;
    if (handlers) handlers.fatal(e);
    else earlyError ??= e;
  };
  server.on('request', onRequest);
  server.on('connect', onConnect);
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error): void => reject(new AivaultError('exec_setup', `cannot start the broker on 127.0.0.1 (${(e as NodeJS.ErrnoException).code ?? 'error'})`));
    server.once('error', onErr);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      server.removeListener('error', onErr);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let unixServer: net.Server | undefined;
  if (opts.unixSocket !== undefined) {
    const us = net.createServer((sock) => {
      unixPeers.add(sock);
      server.emit('connection', sock);
    });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => {
        server.close();
        reject(new AivaultError('exec_setup', `cannot start the broker on its unix socket (${(e as NodeJS.ErrnoException).code ?? 'error'})`));
      };
      us.once('error', onErr);
      us.listen({ path: opts.unixSocket, exclusive: true }, () => {
        us.removeListener('error', onErr);
        resolve();
      });
    });
    unixServer = us;
    us.on('error', onFailure);
  }
  server.on('error', onFailure);
  server.on('close', () => onFailure(new Error('the broker stopped unexpectedly')));

  return {
    server,
    port,
    unixPeers,
    attach(h) {
      if (handlers) throw new Error('broker listener attached twice');
      handlers = h;
      const waiting = early!;
      early = undefined;
      if (earlyError) h.fatal(earlyError);
      for (const ev of waiting) {
        if (ev.kind === 'request') h.request(ev.req, ev.res);
        else h[ev.kind](ev.req, ev.socket, ev.head);
      }
    },
    close(onClosed) {
      closing = true;
      unixServer?.close();
      server.close(() => onClosed?.());
      // nobody will ever serve what waited: end it (a broker that attached has served it)
      for (const ev of early ?? []) {
        if (ev.kind === 'request') ev.res.destroy();
        else ev.socket.destroy();
      }
      early = [];
    },
  };
}
