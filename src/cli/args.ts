import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AivaultError } from '../errors/aivault-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Strict argument parsing with node's built-in parser (no startup cost). Any parse problem becomes
 * a one-line `usage` error.
 */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals, tokens: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]!.replace(/ To specify a positional.*$/, '') : String(e);
    throw new AivaultError('usage', msg);
  }
}

export function usage(message: string): AivaultError {
  return new AivaultError('usage', message);
}
