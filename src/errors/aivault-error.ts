import type { ErrorCode } from './codes.js';

/**
 * The one error type aivault throws on purpose. `code` is stable (SPEC §6 / LocalErrorCode);
 * `message` is a single human line that never contains a secret value or a run token.
 */
export class AivaultError extends Error {
  readonly code: ErrorCode;
  /** Optional file the error is about (vault record, registry file, .env file). */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AivaultError';
    this.code = code;
    this.file = options?.file;
  }
}

export function isAivaultError(e: unknown): e is AivaultError {
  return e instanceof AivaultError;
}
