/**
 * Host policy (SPEC §3, §6). Pure: no I/O. Hosts always come from policy, never from the caller.
 *
 * Decisions:
 * - normalizeHost lower-cases and accepts only DNS names in LDH form: labels of 1–63 chars from
 *   [a-z0-9-], not starting or ending with '-', at least two labels, at most 253 chars.
 *   Punycode ('xn--') labels are fine; raw non-ASCII (IDN) is refused (write it as punycode).
 * - A trailing dot is refused, not stripped: 'api.openai.com.' is not a valid policy host and never
 *   matches anything, so it can neither bypass nor widen a pattern.
 * - Refused outright: ports, userinfo, brackets, IP literals, and anything whose last label is
 *   numeric or hex (WHATWG would parse it as IPv4: '2130706433', '0x7f.1', '017700000001',
 *   '127.1', '1.2.3.4').
 * - Wildcards: a pattern '*.example.com' matches exactly one extra label ('a.example.com'), like
 *   TLS certificate wildcards (RFC 6125); not 'a.b.example.com', not the apex 'example.com', not
 *   'evilexample.com'. The part after '*.' needs at least two labels ('*.com' is refused). '*' only
 *   as a whole leftmost label.
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/;

/** Canonical concrete host name, or undefined when it is not an acceptable DNS host. */
export function normalizeHost(h: string): string | undefined {
  if (typeof h !== 'string') return undefined;
  if (h.length === 0 || h.length > 253) return undefined;
  const lower = h.toLowerCase();
  if (!/^[a-z0-9.-]+$/.test(lower)) return undefined; // ports, userinfo, '[', '*', '_', non-ASCII, spaces
  const labels = lower.split('.');
  if (labels.length < 2) return undefined;
  for (const l of labels) if (!LABEL.test(l)) return undefined; // empty labels incl. trailing dot
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) return undefined;
  return lower;
}

/** Canonical host pattern: a concrete host or '*.' + a concrete host of ≥2 labels. */
export function normalizeHostPattern(p: string): string | undefined {
  if (typeof p !== 'string') return undefined;
  if (p.startsWith('*.')) {
    const rest = normalizeHost(p.slice(2));
    return rest === undefined ? undefined : '*.' + rest;
  }
  return normalizeHost(p);
}

export function isWildcardPattern(p: string): boolean {
  return p.startsWith('*.');
}

/** Does the concrete `host` match `pattern`? Invalid host or pattern → false. */
export function hostMatches(host: string, pattern: string): boolean {
  const h = normalizeHost(host);
  const p = normalizeHostPattern(pattern);
  if (h === undefined || p === undefined) return false;
  if (!p.startsWith('*.')) return h === p;
  const base = p.slice(1); // '.example.com'
  if (!h.endsWith(base)) return false;
  const first = h.slice(0, h.length - base.length);
  return first.length > 0 && !first.includes('.');
}

/** Does pattern `inner` only ever match hosts that `outer` also matches? */
function patternCovered(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  if (!inner.startsWith('*.')) return hostMatches(inner, outer);
  return false; // a wildcard is covered only by the identical wildcard (single-label semantics)
}

/**
 * Hosts a request may go to: the capability's hosts that the credential's hosts allow. A concrete
 * capability host survives when some credential host (exact or wildcard) matches it; a capability
 * wildcard survives only when the credential has the same wildcard, and otherwise contributes the
 * credential's concrete hosts it covers. Invalid entries are dropped. Result is canonical,
 * de-duplicated, in capability order. Empty → the caller fails closed with host_not_allowed.
 */
export function effectiveHosts(credentialHosts: string[], capabilityHosts: string[]): string[] {
  const cred = credentialHosts.map(normalizeHostPattern).filter((x): x is string => x !== undefined);
  const out: string[] = [];
  const add = (h: string): void => {
    if (!out.includes(h)) out.push(h);
  };
  for (const raw of capabilityHosts) {
    const c = normalizeHostPattern(raw);
    if (c === undefined) continue;
    if (cred.some((k) => patternCovered(c, k))) {
      add(c);
      continue;
    }
    if (c.startsWith('*.')) for (const k of cred) if (!k.startsWith('*.') && hostMatches(k, c)) add(k);
  }
  return out;
}

/** A secret pinned to a provider may only go to that provider's hosts (SPEC §3). */
export function pinnedHostAllowed(host: string, pinnedProviderHosts: string[]): boolean {
  return pinnedProviderHosts.some((p) => hostMatches(host, p));
}
