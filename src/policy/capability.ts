/**
 * Capability decisions (SPEC §6). Pure: no I/O.
 *
 * Decisions:
 * - Methods compare case-insensitively after upper-casing both sides ('post' == 'POST'); a method
 *   that is not an RFC 9110 token never matches. No wildcard method: '*' in a capability matches
 *   nothing (fail closed).
 * - `path` must be normalizePath() output; prefixes match whole segments (prefixMatches).
 * - Passthrough inference: among granted capabilities with a prefix matching the path AND allowing
 *   the method, the longest matching prefix wins; ties go to the earlier capability in `granted`
 *   (callers pass a stable order). If some capability matches the path but none allows the method
 *   → method_not_allowed; if none matches the path → capability_not_granted.
 */
import type { Capability } from '../registry/types.js';
import { isNormalPath, prefixBase, prefixMatches, underBase } from './path.js';

export type Match =
  | { ok: true; capability: Capability; prefix: string }
  | { ok: false; code: 'capability_not_granted' | 'method_not_allowed' };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `cap` lists `method` (case-insensitive; '*' is not a wildcard). */
export function methodAllowed(method: string, cap: Pick<Capability, 'methods'>): boolean {
  if (typeof method !== 'string' || !TOKEN.test(method) || method === '*') return false;
  const m = method.toUpperCase();
  return cap.methods.some((x) => typeof x === 'string' && x !== '*' && x.toUpperCase() === m);
}

/** The longest of `cap`'s prefixes matching `path`, or undefined. */
export function matchingPrefix(path: string, cap: Pick<Capability, 'pathPrefixes'>): string | undefined {
  let best: string | undefined;
  let bestLen = -1;
  for (const pre of cap.pathPrefixes) {
    const len = significantLength(pre);
    if (len > bestLen && prefixMatches(path, pre)) {
      best = pre;
      bestLen = len;
    }
  }
  return best;
}

/** Length of a prefix ignoring a trailing '/', so '/v1/' and '/v1' rank the same. */
function significantLength(prefix: string): number {
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.length - 1 : prefix.length;
}

export function inferCapability(method: string, path: string, granted: Capability[]): Match {
  let best: { capability: Capability; prefix: string; len: number } | undefined;
  let pathMatched = false;
  for (const cap of granted) {
    const pre = matchingPrefix(path, cap);
    if (pre === undefined) continue;
    pathMatched = true;
    if (!methodAllowed(method, cap)) continue;
    const len = significantLength(pre);
    if (best === undefined || len > best.len) best = { capability: cap, prefix: pre, len };
  }
  if (best) return { ok: true, capability: best.capability, prefix: best.prefix };
  return { ok: false, code: pathMatched ? 'method_not_allowed' : 'capability_not_granted' };
}

/**
 * Passthrough paths for a provider with an `apiRoot` (src/registry/api-root.ts): a path outside the
 * root that no capability of the provider covers as written is read relative to the root
 * (`/messages` → `/v1/messages` for Anthropic, what the Vercel AI SDK sends). A path inside the
 * root, or one some capability covers (granted or not), is left alone, so the rewrite never
 * changes which endpoint a request that could already match means. `path` is normalizePath output.
 */
export function withApiRoot(path: string, apiRoot: string | undefined, providerCaps: readonly Pick<Capability, 'pathPrefixes'>[]): string {
  if (apiRoot === undefined || prefixMatches(path, apiRoot)) return path;
  if (providerCaps.some((c) => matchingPrefix(path, c) !== undefined)) return path;
  return path === '/' ? apiRoot : apiRoot + path;
}

/** Envelope mode: the capability is named; method first, then path (SPEC §6 order). */
export function checkCapability(
  method: string,
  path: string,
  cap: Capability,
): { ok: true } | { ok: false; code: 'method_not_allowed' | 'path_not_allowed' } {
  if (!methodAllowed(method, cap)) return { ok: false, code: 'method_not_allowed' };
  if (matchingPrefix(path, cap) === undefined) return { ok: false, code: 'path_not_allowed' };
  return { ok: true };
}

/**
 * A capability among `all` (normally every capability of the request's provider) that would
 * cover `method` + `path`: for a denial's hint ("add --allow openai/responses"). Prefers one that
 * also allows the method; longest prefix wins, ties to the earlier one. Undefined when none does.
 */
export function coveringCapability(method: string, path: string, all: readonly Capability[]): Capability | undefined {
  const m = inferCapability(method, path, [...all]);
  if (m.ok) return m.capability;
  let best: { cap: Capability; len: number } | undefined;
  for (const cap of all) {
    const pre = matchingPrefix(path, cap);
    if (pre === undefined) continue;
    const len = significantLength(pre);
    if (best === undefined || len > best.len) best = { cap, len };
  }
  return best?.cap;
}

/**
 * inferCapability, withApiRoot's "some capability covers the path" and methodAllowed over a fixed
 * list of capabilities, with every prefix normalised and every method list upper-cased once
 * (compileCapabilities). Answers exactly what the per-request functions above answer for the same
 * list (test/policy/capability-compiled.test.ts); the list must not change afterwards.
 */
export interface CapabilityMatcher {
  readonly caps: readonly Capability[];
  infer(method: string, path: string): Match;
  /** Some capability of the list has a prefix matching `path` (any method). */
  covers(path: string): boolean;
  /** methodAllowed(method, caps[i]) */
  allows(i: number, method: string): boolean;
}

interface CompiledPrefix {
  prefix: string;
  base: string;
  len: number;
}

function compileOne(cap: Capability): { methods: Set<string>; prefixes: CompiledPrefix[] } {
  const methods = new Set<string>();
  for (const x of cap.methods) if (typeof x === 'string' && x !== '*') methods.add(x.toUpperCase());
  const prefixes: CompiledPrefix[] = [];
  for (const pre of cap.pathPrefixes) {
    const base = prefixBase(pre);
    if (base !== undefined) prefixes.push({ prefix: pre, base, len: significantLength(pre) });
  }
  return { methods, prefixes };
}

/** The request method as methodAllowed compares it, or undefined when it can match nothing. */
function methodKey(method: string): string | undefined {
  if (typeof method !== 'string' || !TOKEN.test(method) || method === '*') return undefined;
  return method.toUpperCase();
}

export function compileCapabilities(caps: readonly Capability[]): CapabilityMatcher {
  const list = [...caps];
  const compiled = list.map(compileOne);
  /** matchingPrefix over compiled prefixes; `path` already known to be in normal form */
  const bestPrefix = (i: number, path: string): CompiledPrefix | undefined => {
    let best: CompiledPrefix | undefined;
    for (const p of compiled[i]!.prefixes) if ((best === undefined || p.len > best.len) && underBase(path, p.base)) best = p;
    return best;
  };
  return {
    caps: list,
    infer(method, path) {
      if (!isNormalPath(path)) return { ok: false, code: 'capability_not_granted' };
      const m = methodKey(method);
      let best: { i: number; p: CompiledPrefix } | undefined;
      let pathMatched = false;
      for (let i = 0; i < list.length; i++) {
        const p = bestPrefix(i, path);
        if (p === undefined) continue;
        pathMatched = true;
        if (m === undefined || !compiled[i]!.methods.has(m)) continue;
        if (best === undefined || p.len > best.p.len) best = { i, p };
      }
      if (best) return { ok: true, capability: list[best.i]!, prefix: best.p.prefix };
      return { ok: false, code: pathMatched ? 'method_not_allowed' : 'capability_not_granted' };
    },
    covers(path) {
      if (!isNormalPath(path)) return false;
      for (let i = 0; i < list.length; i++) if (bestPrefix(i, path) !== undefined) return true;
      return false;
    },
    allows(i, method) {
      const m = methodKey(method);
      return m !== undefined && compiled[i]!.methods.has(m);
    },
  };
}

/** withApiRoot with the provider's capabilities compiled (same answer). */
export function withApiRootCompiled(path: string, apiRoot: string | undefined, providerCaps: CapabilityMatcher): string {
  if (apiRoot === undefined || prefixMatches(path, apiRoot)) return path;
  if (providerCaps.covers(path)) return path;
  return path === '/' ? apiRoot : apiRoot + path;
}
