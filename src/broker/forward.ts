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
    let controller: Dispatcher.DispatchController | undefined;
    let done = false;
    let status = 0;
    let bytes = 0;
    let decoder: Decoder | undefined;
    let timer: NodeJS.Timeout | undefined;
    let clientGone = false;
    const redactor = plan.redactor;

    const finish = (r: ForwardResult): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      res.removeListener('close', onClose);
      res.removeListener('drain', onDrain);
      resolve(r);
    };
    let retry = false;
    const fail = (err: unknown): void => {
      if (done) return;
      if (retry && !clientGone) {
        finish({ status: 401, bytes: 0, retry: true });
        return;
      }
      const { code, message } = errorCodeOf(err, plan);
      if (decoder) decoder.destroy();
      if (clientGone) {
        finish({ status: status || 499, bytes, code });
        return;
      }
      if (!res.headersSent) {
        sendError(res, code, message);
        finish({ status: statusOf(code), bytes, code });
      } else {
        res.destroy();
        finish({ status, bytes, code });
      }
    };
    const abort = (reason: Error): void => {
      if (controller && !controller.aborted) controller.abort(reason);
      else fail(reason);
    };
    const onClose = (): void => {
      if (done || res.writableFinished) return;
      clientGone = true;
      abort(new BrokerDenial('upstream_error', 'the caller went away'));
    };
    const onDrain = (): void => {
      if (decoder) decoder.resume();
      else controller?.resume();
    };
    res.on('close', onClose);
    res.on('drain', onDrain);
    if (plan.totalTimeoutMs !== undefined && plan.totalTimeoutMs > 0) {
      timer = setTimeout(() => abort(new BrokerDenial('upstream_timeout', 'the upstream did not answer in time')), plan.totalTimeoutMs);
      timer.unref();
    }

    // Writes made during one turn of the event loop go out in one writev (setImmediate uncork):
    // far fewer syscalls for big bodies, at most one loop turn of extra latency for events.
    let corked = false;
    const uncork = (): void => {
      if (!corked) return; // end() already flushed everything
      corked = false;
      res.uncork();
    };
    const emit = (out: Buffer): boolean => {
      if (out.length === 0) return true;
      bytes += out.length;
      if (plan.progress) plan.progress.bytes = bytes;
      if (plan.maxResponseBytes !== undefined && bytes > plan.maxResponseBytes) {
        abort(new BrokerDenial('upstream_error', 'the upstream response exceeds the capability size limit'));
        return true;
      }
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(uncork);
      }
      res.write(out);
      // backpressure: stop reading upstream once this much is waiting for the caller
      return res.writableLength < WRITE_BUFFER_LIMIT;
    };
    let filter: { push(b: Buffer): Buffer; end(): Buffer } | undefined;
    const feed = (chunk: Buffer): boolean => emit(redactor.push(filter ? filter.push(chunk) : chunk));
    const end = (): void => {
      if (filter) emit(redactor.push(filter.end()));
      const rest = redactor.end();
      if (rest.length) emit(rest);
      if (done) return;
      // still corked: the chunked terminator joins the head and body in one writev; end() uncorks fully
      res.end();
      corked = false;
      finish({ status, bytes });
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (clientGone) c.abort(new BrokerDenial('upstream_error', 'the caller went away'));
      },
      onResponseStart(c, statusCode, headers, statusMessage) {
        if (statusCode < 200) return; // 1xx informational: not relayed
        status = statusCode;
        if (statusCode === 401 && plan.retryOn401) {
          retry = true;
          c.abort(new BrokerDenial('upstream_error', 'retrying after 401'));
          return;
        }
        if (plan.blockFields && plan.blockFields.length > 0) filter = responseFilter(String(headers['content-type'] ?? ''), plan.blockFields);
        const enc = String(headers['content-encoding'] ?? '').trim().toLowerCase();
        if (enc !== '' && enc !== 'identity') {
          decoder = makeDecoder(enc);
          if (!decoder) {
            c.abort(new BrokerDenial('upstream_error', 'the upstream used a content encoding the broker cannot inspect'));
            return;
          }
          const d = decoder;
          d.on('data', (chunk: Buffer) => {
            if (!feed(chunk)) d.pause();
          });
          d.on('end', end);
          d.on('error', () => fail(new BrokerDenial('upstream_error', 'the upstream sent a corrupt compressed body')));
          d.on('drain', () => controller?.resume());
        }
        const out = sanitizeResponseHeaders(headers as Record<string, string | string[]>, { decoded: decoder !== undefined });
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
      },
      onResponseData(c, chunk) {
        if (done) return;
        if (decoder) {
          if (!decoder.write(chunk)) c.pause();
          return;
        }
        if (!feed(chunk)) c.pause();
      },
      onResponseEnd() {
        if (done) return;
        if (decoder) decoder.end();
        else end();
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };

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
        handler,
      );
    } catch (e) {
      fail(e);
    }
  });
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
