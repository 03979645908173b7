import { AivaultError } from '../errors/aivault-error.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h`, `1.5s` or bare seconds (`30`) → milliseconds (> 0). */
export function parseDuration(text: string, flag = '--timeout'): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new AivaultError('usage', `${flag}: invalid duration '${text}' (use e.g. 500ms, 30s, 5m, 1h)`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
  if (!(ms > 0) || !Number.isFinite(ms) || ms > 2_147_483_647) {
    throw new AivaultError('usage', `${flag}: duration '${text}' out of range`);
  }
  return ms;
}
