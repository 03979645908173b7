/** Error responses the broker itself produces (SPEC §6): JSON body + `x-aivault-error` header. */
import type { ServerResponse } from 'node:http';
import { BROKER_ERROR_STATUS, isBrokerErrorCode, type BrokerErrorCode } from '../errors/codes.js';
import { isAivaultError } from '../errors/aivault-error.js';

/** A policy or transport decision that ends the request with a broker error. */
export class BrokerDenial extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerDenial';
  }
}

export function deny(code: BrokerErrorCode, message: string): BrokerDenial {
  return new BrokerDenial(code, message);
}

/**
 * Map anything thrown inside the pipeline to a broker error code and a safe one-line message.
 * Only AivaultError / BrokerDenial messages are passed through (they are written to be safe);
 * anything else becomes a generic upstream_error.
 */
export function toDenial(e: unknown): BrokerDenial {
  if (e instanceof BrokerDenial) return e;
  if (process.env.AIVAULT_DEBUG === '1') process.stderr.write(`aivault broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  if (isAivaultError(e)) {
    if (isBrokerErrorCode(e.code)) return new BrokerDenial(e.code, e.message);
    if (e.code === 'secret_not_found') return new BrokerDenial('credential_not_found', e.message);
    if (e.code === 'vault_corrupt' || e.code === 'vault_io' || e.code === 'passphrase_wrong' || e.code === 'keychain_unavailable')
      return new BrokerDenial('vault_locked', e.message);
    return new BrokerDenial('upstream_error', 'the broker could not complete the request');
  }
  return new BrokerDenial('upstream_error', 'the broker could not complete the request');
}

export function sendError(res: ServerResponse, code: BrokerErrorCode, message: string, status: number = BROKER_ERROR_STATUS[code]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-aivault-error': code,
    'cache-control': 'no-store',
  });
  res.end(body);
}
