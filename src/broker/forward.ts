/**
 * Send one policy-approved request upstream and stream the answer back (SPEC §6): status and body
 * streamed with backpressure both ways (SSE and chunked arrive event by event), response headers
 * sanitised and redacted, body redacted by a streaming redactor, compressed bodies decoded first.
 * Redirects are returned as they are and never followed. Uses undici's dispatch API directly
 * (no per-request AbortSignal or stream.pipeline: they cost more CPU than the rest of the broker).
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { createRequire } from 'node:module';
import { BROKER_ERROR_STATUS, type BrokerErrorCode } from '../errors/codes.js';
import { sanitizeResponseHeaders } from '../policy/headers.js';
import { BrokerDenial, sendError } from './errors.js';
import type { StreamRedactor } from './redactor.js';
import { responseFilter, type FieldPath } from './json-filter.js';
import type { Upstream, UpstreamTarget } from './upstream.js';

export interface ForwardPlan {
  target: UpstreamTarget;
  method: string;
  /** path + ('?' + query) as sent upstream */
  path: string;
  headers: Record<string, string>;
  body: Buffer | Readable | AsyncIterable<Buffer> | null;
  redactor: StreamRedactor;
  /** idle timeout for headers and between body chunks */
  idleTimeoutMs: number;
  /** total time limit (Capability.limits.timeoutMs) */
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
  /** set when the request body stream failed because it was too large */
  bodyState?: { tooLarge: boolean };
  /** mtls client certificate for the upstream connection */
  clientIdentity?: { cert: string; key: string };
  /** oauth2: on a 401, send nothing to the caller and return {retry: true} (the caller retries once) */
  retryOn401?: boolean;
  /** response bytes sent so far, kept current (the audit line of an aborted request reads it) */
  progress?: { bytes: number };
  /** response blocklist (per capability): JSON member paths removed from JSON and SSE bodies */
  blockFields?: FieldPath[];
}

export interface ForwardResult {
  status: number;
  bytes: number;
  code?: BrokerErrorCode;
  /** the upstream answered 401 and plan.retryOn401 was set: nothing was written to the caller */
  retry?: boolean;
}

/** Response bytes buffered for the caller before the upstream is paused. */
const WRITE_BUFFER_LIMIT = 1024 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const STATUS_TEXT = /^[\t\x20-\x7e]*$/;

type Decoder = import('node:zlib').Gunzip | import('node:zlib').Inflate | import('node:zlib').BrotliDecompress;

function errorCodeOf(err: unknown, plan: ForwardPlan): { code: BrokerErrorCode; message: string } {
  if (plan.bodyState?.tooLarge) return { code: 'body_too_large', message: 'request body exceeds the limit' };
  if (err instanceof BrokerDenial) return { code: err.code, message: err.message };
  const c = (err as { code?: unknown } | null)?.code;
  if (typeof c === 'string' && TIMEOUT_CODES.has(c)) return { code: 'upstream_timeout', message: 'the upstream did not answer in time' };
  return { code: 'upstream_error', message: 'the upstream connection failed' };
}

export function forward(upstream: Upstream, plan: ForwardPlan, res: ServerResponse): Promise<ForwardResult> {
  const ready = upstream.dispatcherNow(plan.target, plan.clientIdentity);
  if (ready) return send(ready, plan, res);
  return upstream.dispatcher(plan.target, plan.clientIdentity).then((d) => send(d, plan, res));
}

function send(dispatcher: Dispatcher, plan: ForwardPlan, res: ServerResponse): Promise<ForwardResult> {
  return new Promise<ForwardResult>((resolve) => {
    const x = new Exchange(plan, res, resolve);
    try {
      dispatcher.dispatch(
        {
          origin: `https://${plan.target.host}`,
          path: plan.path,
          method: plan.method,
          headers: plan.headers,
          body: plan.body as Dispatcher.DispatchOptions['body'],
          headersTimeout: plan.idleTimeoutMs,
          bodyTimeout: plan.idleTimeoutMs,
          blocking: false,
        },
        x,
      );
    } catch (e) {
      x.fail(e);
    }
  });
}

const kExchange = Symbol('aivault.exchange');
type Tagged = ServerResponse & { [kExchange]?: Exchange };

/** res 'close' / 'drain' listeners: shared functions, the exchange sits on the response (no closures per request). */
function onResClose(this: Tagged): void {
  this[kExchange]?.onClose();
}
function onResDrain(this: Tagged): void {
  this[kExchange]?.onDrain();
}
/** Exchanges corked during this turn of the event loop: one setImmediate uncorks them all. */
let corkedNow: Exchange[] = [];
function uncorkAll(): void {
  const list = corkedNow;
  corkedNow = [];
  for (const x of list) x.uncork();
}
function uncorkLater(x: Exchange): void {
  if (corkedNow.push(x) === 1) setImmediate(uncorkAll);
}
function onTotalTimeout(x: Exchange): void {
  x.abort(new BrokerDenial('upstream_timeout', 'the upstream did not answer in time'));
}

/**
 * One forwarded request: the undici dispatch handler and the state of the answer being relayed.
 * Methods, not closures: nothing but this object is allocated per request for the relay itself.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private done = false;
  private status = 0;
  private bytes = 0;
  private decoder: Decoder | undefined;
  private timer: NodeJS.Timeout | undefined;
  private clientGone = false;
  private retry = false;
  private corked = false;
  private filter: { push(b: Buffer): Buffer; end(): Buffer } | undefined;

  constructor(
    private readonly plan: ForwardPlan,
    private readonly res: Tagged,
    private readonly resolve: (r: ForwardResult) => void,
  ) {
    res[kExchange] = this;
    res.on('close', onResClose);
    res.on('drain', onResDrain);
    if (plan.totalTimeoutMs !== undefined && plan.totalTimeoutMs > 0) {
      this.timer = setTimeout(onTotalTimeout, plan.totalTimeoutMs, this);
      this.timer.unref();
    }
  }

  private finish(r: ForwardResult): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    const res = this.res;
    if (res[kExchange] === this) res[kExchange] = undefined;
    res.removeListener('close', onResClose);
    res.removeListener('drain', onResDrain);
    this.resolve(r);
  }

  fail(err: unknown): void {
    if (this.done) return;
    if (this.retry && !this.clientGone) {
      this.finish({ status: 401, bytes: 0, retry: true });
      return;
    }
    const { code, message } = errorCodeOf(err, this.plan);
    if (this.decoder) this.decoder.destroy();
    if (this.clientGone) {
      this.finish({ status: this.status || 499, bytes: this.bytes, code });
      return;
    }
    if (!this.res.headersSent) {
      sendError(this.res, code, message);
      this.finish({ status: statusOf(code), bytes: this.bytes, code });
    } else {
      this.res.destroy();
      this.finish({ status: this.status, bytes: this.bytes, code });
    }
  }

  abort(reason: Error): void {
    const c = this.controller;
    if (c && !c.aborted) c.abort(reason);
    else this.fail(reason);
  }

  onClose(): void {
    if (this.done || this.res.writableFinished) return;
    this.clientGone = true;
    this.abort(new BrokerDenial('upstream_error', 'the caller went away'));
  }

  onDrain(): void {
    if (this.decoder) this.decoder.resume();
    else this.controller?.resume();
  }

  // Writes made during one turn of the event loop go out in one writev (setImmediate uncork):
  // far fewer syscalls for big bodies, at most one loop turn of extra latency for events.
  uncork(): void {
    if (!this.corked) return; // end() already flushed everything
    this.corked = false;
    this.res.uncork();
  }

  private emit(out: Buffer): boolean {
    if (out.length === 0) return true;
    const plan = this.plan;
    this.bytes += out.length;
    if (plan.progress) plan.progress.bytes = this.bytes;
    if (plan.maxResponseBytes !== undefined && this.bytes > plan.maxResponseBytes) {
      this.abort(new BrokerDenial('upstream_error', 'the upstream response exceeds the capability size limit'));
      return true;
    }
    const res = this.res;
    if (!this.corked) {
      this.corked = true;
      res.cork();
      uncorkLater(this);
    }
    res.write(out);
    // backpressure: stop reading upstream once this much is waiting for the caller
    return res.writableLength < WRITE_BUFFER_LIMIT;
  }

  private feed(chunk: Buffer): boolean {
    return this.emit(this.plan.redactor.push(this.filter ? this.filter.push(chunk) : chunk));
  }

  private end(): void {
    const redactor = this.plan.redactor;
    if (this.filter) this.emit(redactor.push(this.filter.end()));
    const rest = redactor.end();
    if (rest.length) this.emit(rest);
    if (this.done) return;
    // still corked: the chunked terminator joins the head and body in one writev; end() uncorks fully
    this.res.end();
    this.corked = false;
    this.finish({ status: this.status, bytes: this.bytes });
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.clientGone) c.abort(new BrokerDenial('upstream_error', 'the caller went away'));
  }

  onResponseStart(c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx informational: not relayed
    const plan = this.plan;
    const res = this.res;
    const redactor = plan.redactor;
    this.status = statusCode;
    if (statusCode === 401 && plan.retryOn401) {
      this.retry = true;
      c.abort(new BrokerDenial('upstream_error', 'retrying after 401'));
      return;
    }
    if (plan.blockFields && plan.blockFields.length > 0) this.filter = responseFilter(String(headers['content-type'] ?? ''), plan.blockFields);
    const enc = String(headers['content-encoding'] ?? '').trim().toLowerCase();
    if (enc !== '' && enc !== 'identity') {
      this.decoder = makeDecoder(enc);
      if (!this.decoder) {
        c.abort(new BrokerDenial('upstream_error', 'the upstream used a content encoding the broker cannot inspect'));
        return;
      }
      const d = this.decoder;
      d.on('data', (chunk: Buffer) => {
        if (!this.feed(chunk)) d.pause();
      });
      d.on('end', () => this.end());
      d.on('error', () => this.fail(new BrokerDenial('upstream_error', 'the upstream sent a corrupt compressed body')));
      d.on('drain', () => this.controller?.resume());
    }
    const out = sanitizeResponseHeaders(headers as Record<string, string | string[]>, { decoded: this.decoder !== undefined });
    // A header NAME can carry a secret too (an upstream reflecting it): such a header is
    // dropped. Names arrive lower-cased, so the raw (as-sent) names are checked as well.
    if (redactor.active) {
      let leaky: Set<string> | undefined;
      const raw = (c as { rawHeaders?: unknown }).rawHeaders;
      if (Array.isArray(raw))
        for (let i = 0; i < raw.length; i += 2) {
          // a name shorter (in bytes, so also in characters) than every secret cannot hold one
          if ((raw[i] as { length?: number }).length! < redactor.minLength) continue;
          const n = String(raw[i]);
          if (redactor.redactString(n) !== n) (leaky ??= new Set()).add(n.toLowerCase());
        }
      for (const k of Object.keys(out)) {
        if (leaky?.has(k) || redactor.redactString(k) !== k) {
          delete out[k];
          continue;
        }
        const v = out[k]!;
        out[k] = Array.isArray(v) ? v.map((s) => redactor.redactString(s)) : redactor.redactString(v);
      }
    }
    const text = typeof statusMessage === 'string' && STATUS_TEXT.test(statusMessage) ? redactor.redactString(statusMessage) : undefined;
    if (text) res.writeHead(statusCode, text, out);
    else res.writeHead(statusCode, out);
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    if (this.decoder) {
      if (!this.decoder.write(chunk)) c.pause();
      return;
    }
    if (!this.feed(chunk)) c.pause();
  }

  onResponseEnd(): void {
    if (this.done) return;
    if (this.decoder) this.decoder.end();
    else this.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }
}

function statusOf(code: BrokerErrorCode): number {
  return BROKER_ERROR_STATUS[code];
}

let zlibMod: typeof import('node:zlib') | undefined;
function makeDecoder(enc: string): Decoder | undefined {
  zlibMod ??= zlibSync();
  if (enc === 'gzip' || enc === 'x-gzip') return zlibMod.createGunzip();
  if (enc === 'deflate') return zlibMod.createInflate();
  if (enc === 'br') return zlibMod.createBrotliDecompress();
  return undefined;
}

/** node:zlib is loaded only when a compressed response first arrives. */
function zlibSync(): typeof import('node:zlib') {
  return createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
}
