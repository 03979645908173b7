/**
 * "Did you mean" for capability ids (issue 11 item 5). Pure.
 *
 * A candidate is suggested when, compared case-insensitively, it
 *   - is within an edit distance (optimal string alignment: insert, delete, substitute, swap two
 *     neighbours) of max(2, ⌊length/4⌋) of what was typed, or
 *   - starts with what was typed (`openai/chat` → `openai/chat-completions`), or
 *   - has the same provider and its name contains the typed name (`openai/completions`), or
 *   - has the typed name under another provider when the typed provider does not exist.
 * Same provider first (and only, when it has a match), then closest (distance, then id), at
 * most `max`.
 */

export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur.push(v);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
}

export function suggestIds(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const t = typed.trim().toLowerCase();
  if (t === '') return [];
  const slash = t.indexOf('/');
  const tProv = slash === -1 ? '' : t.slice(0, slash);
  const tName = slash === -1 ? t : t.slice(slash + 1);
  const limit = Math.max(2, Math.floor(t.length / 4));
  const scored: Array<{ id: string; d: number; other: number }> = [];
  const seen = new Set<string>();
  for (const id of candidates) {
    if (seen.has(id)) continue;
    seen.add(id);
    const c = id.toLowerCase();
    if (id === typed) continue;
    const cs = c.indexOf('/');
    const cProv = cs === -1 ? '' : c.slice(0, cs);
    const cName = cs === -1 ? c : c.slice(cs + 1);
    const d = editDistance(t, c);
    const ok =
      d <= limit ||
      (t.length >= 3 && c.startsWith(t)) ||
      (tName.length >= 3 && cProv === tProv && cName.includes(tName)) ||
      (tName.length >= 3 && slash !== -1 && cName === tName);
    if (ok) scored.push({ id, d, other: cProv === tProv ? 0 : 1 });
  }
  scored.sort((x, y) => x.other - y.other || x.d - y.d || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  // when the typed provider has a match, other providers' ids are noise
  if (scored[0]?.other === 0) return scored.filter((x) => x.other === 0).slice(0, max).map((x) => x.id);
  return scored.slice(0, max).map((s) => s.id);
}

/** " (did you mean a, b?)" or "" — for one-line errors. */
export function didYouMean(typed: string, candidates: Iterable<string>): string {
  const s = suggestIds(typed, candidates);
  return s.length === 0 ? '' : `; did you mean ${s.join(', ')}?`;
}

/** Every built-in capability id plus `provider/*` for every provider. */
export function knownCapabilityIds(reg: { capabilities: ReadonlyArray<{ id: string }>; providers: ReadonlyArray<{ provider: string }> }): string[] {
  return [...reg.capabilities.map((c) => c.id), ...reg.providers.map((p) => `${p.provider}/*`)];
}
