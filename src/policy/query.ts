/**
 * Query-string policy (SPEC §6). Pure: no I/O.
 *
 * Decisions:
 * - A parameter name is compared after percent-decoding ('ke%79' is 'key'), '+' → space,
 *   trimming whitespace, dropping a PHP-style '[...]' suffix ('key[]' is 'key') and lower-casing:
 *   some upstream frameworks match query names case-insensitively, so the broker refuses any
 *   case variant of an owned parameter ('KEY=' when 'key' is owned). A name that does not
 *   percent-decode is refused when it could be an owned name in disguise (fail closed: any
 *   undecodable name is refused when there are owned params).
 * - Separators: '&' and ';' both split parameters (some servers accept ';').
 */

export type QueryPair = { rawName: string; rawValue: string | undefined; name: string | undefined };

function decodeComponent(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Canonical comparison key for a parameter name; undefined when it does not decode. */
export function paramKey(rawName: string): string | undefined {
  const d = decodeComponent(rawName);
  if (d === undefined) return undefined;
  let k = d.trim();
  const br = k.indexOf('[');
  if (br > 0) k = k.slice(0, br);
  return k.trim().toLowerCase();
}

/** Split a raw query (without '?') into pairs, keeping raw text. Empty pieces are skipped. */
export function parseQuery(query: string): QueryPair[] {
  const out: QueryPair[] = [];
  if (!query) return out;
  for (const piece of query.split(/[&;]/)) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? undefined : piece.slice(eq + 1);
    out.push({ rawName, rawValue, name: paramKey(rawName) });
  }
  return out;
}

export function checkCallerQuery(
  query: string,
  ownedParams: string[],
): { ok: true } | { ok: false; code: 'auth_header_rejected'; param: string } {
  if (ownedParams.length === 0) return { ok: true };
  const owned = new Set(ownedParams.map((p) => paramKey(p) ?? p.toLowerCase()));
  for (const p of parseQuery(query)) {
    if (p.name === undefined) return { ok: false, code: 'auth_header_rejected', param: p.rawName };
    if (owned.has(p.name)) return { ok: false, code: 'auth_header_rejected', param: p.name };
  }
  return { ok: true };
}

/**
 * Remove owned parameters whose decoded value satisfies `isToken` (the run token sitting where the
 * SDK puts its key). Returns the remaining query, original text and order preserved. Other owned
 * parameters stay, so checkCallerQuery then refuses them.
 */
export function consumeTokenParams(query: string, ownedParams: string[], isToken: (value: string) => boolean): string {
  const owned = new Set(ownedParams.map((p) => paramKey(p) ?? p.toLowerCase()));
  return filterPieces(query, (piece) => {
    const eq = piece.indexOf('=');
    const name = paramKey(eq === -1 ? piece : piece.slice(0, eq));
    if (name !== undefined && owned.has(name) && eq !== -1) {
      const v = decodeComponent(piece.slice(eq + 1));
      if (v !== undefined && isToken(v)) return false;
    }
    return true;
  });
}

/**
 * Drop every parameter whose name or value (raw or percent-decoded) contains `needle` — the run
 * token is consumed wherever the caller put it, not only in the provider's auth parameter.
 */
export function dropParamsCarrying(query: string, needle: string): string {
  if (!needle) return query;
  return filterPieces(query, (piece) => {
    if (piece.includes(needle)) return false;
    const decoded = decodeComponent(piece);
    return decoded === undefined ? true : !decoded.includes(needle);
  });
}

/**
 * Keep the pieces `keep` accepts, splitting on '&' and ';' like parseQuery; original text and
 * separators of kept pieces are preserved, empty pieces dropped.
 */
function filterPieces(query: string, keep: (piece: string) => boolean): string {
  if (!query) return '';
  return query
    .split('&')
    .map((part) => part.split(';').filter((piece) => piece !== '' && keep(piece)).join(';'))
    .filter((part) => part !== '')
    .join('&');
}

/** Percent-encode a query component (RFC 3986 unreserved kept; everything else %XX, uppercase). */
export function encodeQueryComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Remove every parameter whose key equals one of `names` (same comparison as checkCallerQuery). */
export function removeParams(query: string, names: string[]): string {
  const drop = new Set(names.map((p) => paramKey(p) ?? p.toLowerCase()));
  return filterPieces(query, (piece) => {
    const eq = piece.indexOf('=');
    const k = paramKey(eq === -1 ? piece : piece.slice(0, eq));
    return k === undefined || !drop.has(k);
  });
}

/** Append `name=value` (both encoded) to a raw query. */
export function appendParam(query: string, name: string, value: string): string {
  const pair = encodeQueryComponent(name) + '=' + encodeQueryComponent(value);
  return query ? query + '&' + pair : pair;
}
