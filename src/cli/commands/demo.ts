import { AivaultError } from '../../errors/aivault-error.js';

export async function run(_argv: string[]): Promise<number> {
  throw new AivaultError('usage', "'demo' is not implemented yet");
}
