/**
 * Path-auth slots (SPEC §7a). Pure: no I/O.
 *
 * A provider with `auth: {strategy: "path", prefix: "/bot{{secret}}"}` has its key in the path.
 * SDKs build such paths from a base URL and a key (`<base>/bot<key>/sendMessage`), so under aivault
 * they send `/v/telegram/bot<run token>/sendMessage`. splitPathSlot finds that slot in a caller
 * path so the broker can try its value as the run token, consume it, and audit the path with the
 * slot masked whatever it held.
 *
 * Decisions:
 * - Only templates with exactly one `{{field}}` placeholder have a slot; the literal text before it
 *   must end the caller's path prefix exactly (`/bot`), the slot value runs to the next `/` or `?`
 *   (rendered secrets are single opaque segment fragments), then the literal after the placeholder
 *   must follow (only whole segments: `/x/{{secret}}/api`). The remaining path starts with `/` (an empty rest is `/`).
 * - An empty slot value is no slot (`/bot/sendMessage` stays as it is).
 * - The value is percent-decoded for the token comparison; undecodable → reported raw.
 */

export interface PathSlot {
  /** the slot's text as the caller wrote it */
  raw: string;
  /** percent-decoded (raw when it does not decode) */
  value: string;
  /** the path after the slot, starting with '/' (query kept) */
  rest: string;
  /** the caller's path with the slot text replaced by `mask` */
  masked: string;
}

const PLACEHOLDER = /\{\{\s*[A-Za-z0-9_.-]+\s*\}\}/g;

export function splitPathSlot(prefixTemplate: string, path: string, mask = '[REDACTED]'): PathSlot | undefined {
  const found = [...prefixTemplate.matchAll(PLACEHOLDER)];
  if (found.length !== 1) return undefined;
  const at = found[0]!.index!;
  const before = prefixTemplate.slice(0, at);
  const after = prefixTemplate.slice(at + found[0]![0].length).replace(/\/$/, '');
  if (!before.startsWith('/') || !path.startsWith(before)) return undefined;
  let end = before.length;
  while (end < path.length && path[end] !== '/' && path[end] !== '?') end++;
  const raw = path.slice(before.length, end);
  let tail = path.slice(end);
  if (after !== '') {
    // a literal after the placeholder must be whole segments ('/v/{{secret}}/api'); anything else
    // ('{{secret}}.x') has no slot a caller could fill unambiguously
    if (!after.startsWith('/')) return undefined;
    if (!(tail === after || tail.startsWith(after + '/') || tail.startsWith(after + '?'))) return undefined;
    tail = tail.slice(after.length);
  }
  if (raw === '') return undefined;
  let value = raw;
  try {
    value = decodeURIComponent(raw);
  } catch {
    /* keep raw */
  }
  const rest = tail === '' || tail.startsWith('?') ? '/' + tail : tail;
  const masked = before + mask + path.slice(end);
  return { raw, value, rest, masked };
}
