/** The caller's request body on the passthrough path: size-checked up front or while it streams. */
import type { IncomingMessage } from 'node:http';
import { deny } from './errors.js';

/** The caller's body for passthrough: the request stream itself, size-checked. */
export function passthroughBody(req: IncomingMessage, max: number, state: { tooLarge: boolean }): IncomingMessage | AsyncIterable<Buffer> | null {
  const cl = req.headers['content-length'];
  if (cl !== undefined) {
    const n = Number(cl);
    if (!Number.isSafeInteger(n) || n < 0) throw deny('invalid_request', 'bad content-length');
    if (n > max) throw deny('body_too_large', `request body of ${n} bytes exceeds the limit of ${max}`);
    return n === 0 ? null : req;
  }
  if (req.headers['transfer-encoding'] === undefined) return null;
  return limited(req, max, state);
}

async function* limited(req: IncomingMessage, max: number, state: { tooLarge: boolean }): AsyncIterable<Buffer> {
  let seen = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > max) {
      state.tooLarge = true;
      throw deny('body_too_large', 'request body exceeds the limit');
    }
    yield chunk;
  }
}
