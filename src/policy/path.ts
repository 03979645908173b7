/**
 * Request-target normalisation for the broker (SPEC §6). Pure: no I/O.
 *
 * Decisions (also in the README's security section):
 * - The target must start with '/'. It is split at the first '?': path and query.
 * - Codes: path_traversal for anything that could change which resource the upstream serves
 *   (dot segments, encoded '/' or '\', raw '\', NUL raw or encoded, '%25' double encoding, empty
 *   segments '//', Unicode look-alikes of '/', '\' or '.' once percent-decoded); invalid_request for
 *   malformed input (no leading '/', bad percent-encoding, raw control chars, space, '#', raw
 *   non-ASCII, encoded control chars, invalid UTF-8 in percent-encoded bytes, over-long targets).
 * - A dot segment is any segment whose decoded, NFKC-normalised text — up to the first ';' (Tomcat
 *   style path parameters, '..;') — is made only of dots and whitespace: '.', '..', '...', '. ',
 *   '%2e%2E', '..;x', '．．' (U+FF0E), '‥' (U+2025), '․' (U+2024).
 * - Empty segments are refused ('//' anywhere, including a leading '//'); a single trailing '/'
 *   is kept ('/v1/models/' is fine). Nothing is collapsed silently.
 * - Percent-encoded unreserved characters (ALPHA DIGIT '-' '.' '_' '~') are decoded (RFC 3986
 *   §6.2.2.2), so '%7e' becomes '~' and '/v1/%63hat' becomes '/v1/chat'. Every other
 *   percent-encoding is kept, with uppercase hex. Raw printable ASCII outside RFC 3986 pchar
 *   (e.g. '[' ']' '|' '^' '{' '}' '"' '<' '>' '`') is percent-encoded. The output contains only
 *   unreserved chars, sub-delims, ':', '@', '/' and '%XX', so normalisation is idempotent.
 * - Raw non-ASCII is refused. Percent-encoded UTF-8 must be valid UTF-8; it stays encoded (opaque)
 *   unless it decodes to a look-alike of '/', '\' or a dot segment, which is path_traversal.
 * - The query is returned as given (without the '?'), after validation: raw printable ASCII only,
 *   no '#', well-formed percent-encoding. Policy never matches on the query.
 */

export type PathResult =
  | { ok: true; path: string; query: string }
  | { ok: false; code: 'path_traversal' | 'invalid_request'; reason: string };

/** Longest request target accepted (path + query), in characters. */
export const MAX_TARGET_LENGTH = 16 * 1024;

const HEX = '0123456789ABCDEF';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
function hexVal(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c <= 0x46) return c - 0x41 + 10;
  return c - 0x61 + 10;
}
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d /* - */ ||
    c === 0x2e /* . */ ||
    c === 0x5f /* _ */ ||
    c === 0x7e /* ~ */
  );
}
/** sub-delims plus ':' and '@' — allowed raw in a path segment besides unreserved. */
function isRawPathExtra(c: number): boolean {
  // ! $ & ' ( ) * + , ; = : @
  return '!$&\'()*+,;=:@'.includes(String.fromCharCode(c));
}
function pctEncodeByte(b: number): string {
  return '%' + HEX[b >> 4]! + HEX[b & 15]!;
}

/** Code points that look like '/', '\' or '.' (checked after NFKC, which folds most others). */
const LOOKALIKE_SLASH = /[\u2215\u2044\u29F8\u29F9\u2216\uFF0F\uFF3C\uFE68\u2571\u2572\u27CB\u27CD\u3033\u3035\u002F\u005C]/u;
const DOTS_ONLY = /^[\s.\u2024\u2025\u2026\uFF0E\u3002\uFF61\u00B7\u2027\u0701\u0702\uFE52]*$/u;
const HAS_DOT = /[.\u2024\u2025\u2026\uFF0E\u3002\uFF61\u00B7\u2027\u0701\u0702\uFE52]/u;

function fail(code: 'path_traversal' | 'invalid_request', reason: string): PathResult {
  return { ok: false, code, reason };
}

/** True when the decoded segment would be a dot segment somewhere upstream. */
function isDotSegment(decoded: string): boolean {
  const folded = decoded.normalize('NFKC');
  for (const s of [decoded, folded]) {
    const core = s.split(';')[0]!;
    if (core.length > 0 && HAS_DOT.test(core) && DOTS_ONLY.test(core)) return true;
  }
  return false;
}

function hasSlashLookalike(decoded: string): boolean {
  return LOOKALIKE_SLASH.test(decoded) || LOOKALIKE_SLASH.test(decoded.normalize('NFKC'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Normalise one path segment (without '/'). Returns the normalised text or a failure.
 */
function normalizeSegment(seg: string): { ok: true; out: string } | PathResult {
  let out = '';
  const bytes: number[] = []; // every byte of the segment, decoded, for the look-alike checks
  let sawHighByte = false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const h1 = seg.charCodeAt(i + 1);
      const h2 = seg.charCodeAt(i + 2);
      if (!(i + 2 < seg.length && isHex(h1) && isHex(h2))) return fail('invalid_request', 'malformed percent-encoding in path');
      const b = (hexVal(h1) << 4) | hexVal(h2);
      i += 2;
      if (b === 0x25) return fail('path_traversal', "double percent-encoding ('%25') in path");
      if (b === 0x00) return fail('path_traversal', 'NUL in path');
      if (b === 0x2f) return fail('path_traversal', "encoded '/' in path");
      if (b === 0x5c) return fail('path_traversal', "encoded '\\' in path");
      if (b < 0x20 || b === 0x7f) return fail('invalid_request', 'encoded control character in path');
      bytes.push(b);
      if (b >= 0x80) sawHighByte = true;
      out += isUnreserved(b) ? String.fromCharCode(b) : pctEncodeByte(b);
      continue;
    }
    if (c === 0x00) return fail('path_traversal', 'NUL in path');
    if (c === 0x5c) return fail('path_traversal', "'\\' in path");
    if (c < 0x20 || c === 0x7f) return fail('invalid_request', 'control character in path');
    if (c === 0x20) return fail('invalid_request', 'space in path');
    if (c === 0x23) return fail('invalid_request', "'#' in request target");
    if (c > 0x7f) return fail('invalid_request', 'non-ASCII character in path (percent-encode it)');
    bytes.push(c);
    if (isUnreserved(c) || isRawPathExtra(c)) out += String.fromCharCode(c);
    else out += pctEncodeByte(c);
  }
  let decoded: string;
  if (sawHighByte) {
    try {
      decoded = utf8.decode(Uint8Array.from(bytes));
    } catch {
      return fail('invalid_request', 'percent-encoded bytes in path are not valid UTF-8');
    }
    if (hasSlashLookalike(decoded)) return fail('path_traversal', "look-alike of '/' or '\\' in path");
  } else {
    decoded = String.fromCharCode(...bytes);
  }
  if (isDotSegment(decoded)) return fail('path_traversal', "'.' or '..' segment in path");
  return { ok: true, out };
}

/**
 * True when `p` (a path starting with '/') is already in normal form and the full rules could not
 * refuse or change it: only unreserved characters, sub-delims, ':', '@' and '/'; no '%'; no empty
 * segment except a final trailing '/'; no segment whose text before the first ';' is made only of
 * dots. Anything else takes the full path (normalizeSegment), which decides.
 */
function isPlainPath(p: string): boolean {
  const n = p.length;
  let segStart = 1;
  let inCore = true; // before the segment's first ';'
  let coreLen = 0;
  let coreDots = true; // every character of the core so far is '.'
  for (let i = 1; i <= n; i++) {
    const c = i === n ? 0x2f : p.charCodeAt(i);
    if (c === 0x2f) {
      if (i === segStart) {
        if (i < n) return false; // '//': the full rules refuse it
      } else if (coreLen > 0 && coreDots) return false; // a dot segment: the full rules refuse it
      segStart = i + 1;
      inCore = true;
      coreLen = 0;
      coreDots = true;
      continue;
    }
    if (c >= 0x80 || PLAIN_CHAR[c] !== 1) return false;
    if (inCore) {
      if (c === 0x3b) inCore = false;
      else {
        coreLen++;
        if (c !== 0x2e) coreDots = false;
      }
    }
  }
  return true;
}

/** Characters a path segment keeps raw in normal form: unreserved, sub-delims, ':' and '@'. */
const PLAIN_CHAR = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (isUnreserved(c) || isRawPathExtra(c)) t[c] = 1;
  return t;
})();

function validateQuery(q: string): PathResult | undefined {
  for (let i = 0; i < q.length; i++) {
    const c = q.charCodeAt(i);
    if (c === 0x25) {
      if (!(i + 2 < q.length && isHex(q.charCodeAt(i + 1)) && isHex(q.charCodeAt(i + 2))))
        return fail('invalid_request', 'malformed percent-encoding in query');
      i += 2;
      continue;
    }
    if (c < 0x20 || c === 0x7f) return fail('invalid_request', 'control character in query');
    if (c === 0x20) return fail('invalid_request', 'space in query');
    if (c === 0x23) return fail('invalid_request', "'#' in request target");
    if (c > 0x7f) return fail('invalid_request', 'non-ASCII character in query (percent-encode it)');
  }
  return undefined;
}

/**
 * Normalise a caller-written request target ('/v1/chat/completions?x=1'). See the module comment
 * for every rule. On success `path` is exactly what is sent upstream (before path auth is prepended)
 * and `query` is the query without '?'.
 */
export function normalizePath(raw: string): PathResult {
  if (typeof raw !== 'string' || raw.length === 0) return fail('invalid_request', 'empty path');
  if (raw.length > MAX_TARGET_LENGTH) return fail('invalid_request', 'request target too long');
  if (raw.charCodeAt(0) !== 0x2f) return fail('invalid_request', "path must start with '/'");
  const qi = raw.indexOf('?');
  const rawPath = qi === -1 ? raw : raw.slice(0, qi);
  const query = qi === -1 ? '' : raw.slice(qi + 1);
  if (isPlainPath(rawPath)) {
    // already in normal form (every rule below would keep it as it is): one pass, no copies
    const qf = validateQuery(query);
    return qf ?? { ok: true, path: rawPath, query };
  }
  return normalizeSegments(rawPath, query);
}

/** normalizePath without the plain-path shortcut: every rule, every segment (tests compare the two). */
export function normalizePathFull(raw: string): PathResult {
  if (typeof raw !== 'string' || raw.length === 0) return fail('invalid_request', 'empty path');
  if (raw.length > MAX_TARGET_LENGTH) return fail('invalid_request', 'request target too long');
  if (raw.charCodeAt(0) !== 0x2f) return fail('invalid_request', "path must start with '/'");
  const qi = raw.indexOf('?');
  return normalizeSegments(qi === -1 ? raw : raw.slice(0, qi), qi === -1 ? '' : raw.slice(qi + 1));
}

function normalizeSegments(rawPath: string, query: string): PathResult {
  // '#' before '?' is a fragment: refused (checked in the segment loop); in the query too.
  const segments = rawPath.split('/');
  // segments[0] is '' (leading '/'). A trailing '' means a trailing slash.
  let out = '';
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = segments[i]!;
    if (seg === '') {
      if (i === last) {
        out += '/';
        break;
      }
      return fail('path_traversal', "empty path segment ('//')");
    }
    const r = normalizeSegment(seg);
    if ('ok' in r && r.ok === false) return r;
    out += '/' + (r as { out: string }).out;
  }
  if (out === '') out = '/';
  const qf = validateQuery(query);
  if (qf) return qf;
  return { ok: true, path: out, query };
}

/**
 * Whole-segment prefix match on normalised paths. '/v1/chat/completions' matches itself and
 * '/v1/chat/completions/x' (and with a trailing '/'), never '/v1/chat/completionsX'. A trailing '/'
 * on the prefix is insignificant ('/v1/' behaves as '/v1'). Prefix '/' matches every path.
 * The prefix is normalised too; a prefix that does not normalise (or carries a query) matches
 * nothing — fail closed. The path is expected to be normalizePath output; a path that is not
 * already in normal form matches nothing.
 */
export function prefixMatches(path: string, prefix: string): boolean {
  if (!isNormalPath(path)) return false;
  const base = prefixBase(prefix);
  return base !== undefined && underBase(path, base);
}

/** True when `path` is normalizePath output without a query (normalising it changes nothing). */
export function isNormalPath(path: string): boolean {
  const p = normalizePath(path);
  return p.ok && p.query === '' && p.path === path && !path.includes('?');
}

/**
 * A prefix as prefixMatches compares it: normalised, without its trailing '/' ('/' stays '/');
 * undefined when it does not normalise or carries a query (it matches nothing). Computed once per
 * capability by compiled matchers (src/policy/capability.ts).
 */
export function prefixBase(prefix: string): string | undefined {
  const pre = normalizePath(prefix);
  if (!pre.ok || pre.query !== '' || prefix.includes('?')) return undefined;
  let base = pre.path;
  if (base === '/') return base;
  if (base.endsWith('/')) base = base.slice(0, -1);
  return base;
}

/** Whole-segment match of a normal-form `path` against a prefixBase() result. */
export function underBase(path: string, base: string): boolean {
  if (base === '/') return true;
  return path === base || path.startsWith(base + '/');
}

/**
 * Encode a string so it is one opaque path segment in normal form: unreserved chars, sub-delims,
 * ':' and '@' stay raw; everything else (including '/', '\', '%', '?', '#') is percent-encoded
 * as UTF-8 with uppercase hex. Used for path auth (e.g. '/bot{{secret}}').
 */
export function encodePathSegment(value: string): string {
  let out = '';
  const bytes = new TextEncoder().encode(value);
  for (const b of bytes) {
    if (isUnreserved(b) || isRawPathExtra(b)) out += String.fromCharCode(b);
    else out += pctEncodeByte(b);
  }
  return out;
}
