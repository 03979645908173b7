/**
 * Log and audit hygiene (SPEC §7a): no audit line, log line or error message carries a run token
 * or an injected secret, wherever the caller put it. scrubText replaces, in text headed for the
 * audit log or an error message:
 *   - every 43-character base64url window that is a token this broker minted (live or dead) with
 *     `[token]` (also after percent-decoding when the text is encoded);
 *   - every secret value the broker has injected so far (and its percent-encoded form) with
 *     `[REDACTED]`.
 * Query strings never reach the audit (callers pass paths without them). Cost: one SHA-256 per
 * 43-char window inside base64url runs of 43+ characters, which ordinary paths do not have.
 */
import { REDACTED } from './redactor.js';

const RUN = /[A-Za-z0-9_-]{43,}/g;
export const TOKEN_MASK = '[token]';
/** A character encodeURIComponent changes (everything but A-Z a-z 0-9 - _ . ! ~ * ' ( )). */
const NEEDS_ENCODING = /[^A-Za-z0-9\-_.!~*'()]/;

function maskTokens(text: string, isToken: (v: string) => boolean): string {
  if (text.length < 43) return text; // no room for a token (most paths): no regex pass
  return text.replace(RUN, (run) => {
    let out = '';
    let i = 0;
    while (i + 43 <= run.length) {
      if (isToken(run.slice(i, i + 43))) {
        out += TOKEN_MASK;
        i += 43;
      } else out += run[i++];
    }
    return out + run.slice(i);
  });
}

export function scrubText(text: string, isToken: (v: string) => boolean, secrets: Iterable<string> = []): string {
  let out = maskTokens(text, isToken);
  if (out.includes('%')) {
    try {
      const d = decodeURIComponent(out);
      const masked = maskTokens(d, isToken);
      if (masked !== d) out = masked;
    } catch {
      /* not decodable: the raw text was checked */
    }
  }
  for (const s of secrets) {
    if (s.length < 4) continue;
    if (out.includes(s)) out = out.split(s).join(REDACTED);
    if (!NEEDS_ENCODING.test(s)) continue; // encodeURIComponent(s) === s
    const enc = encodeURIComponent(s);
    if (out.includes(enc)) out = out.split(enc).join(REDACTED);
  }
  return out;
}
