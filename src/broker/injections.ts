/** Secret values per credential for the broker (SPEC §6 "auth injected"), cached briefly. */
import type { Catalog, Credential } from '../registry/types.js';
import { secretValuesOf } from '../auth/secret-values.js';
import { RedactionSet } from './redactor.js';

/** Secret values for a credential, cached briefly so a busy run does not decrypt per request. */
export class InjectionCache {
  private readonly map = new Map<string, { at: number; p: Promise<Injection>; value?: Injection }>();
  /** Every secret value injected so far (for scrubbing audit lines and messages, SPEC §7a). */
  readonly known = new Set<string>();
  constructor(private readonly ttlMs = 10_000) {}

  /** The cached, resolved injection for `cred` while it is fresh; undefined when get() must run. */
  peek(cred: Credential): Injection | undefined {
    const hit = this.map.get(cred.id);
    return hit?.value !== undefined && Date.now() - hit.at < this.ttlMs ? hit.value : undefined;
  }

  get(catalog: Catalog, cred: Credential): Promise<Injection> {
    const key = cred.id;
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.p;
    const entry: { at: number; p: Promise<Injection>; value?: Injection } = { at: now, p: undefined as unknown as Promise<Injection> };
    entry.p = catalog.resolveSecrets(cred).then((secrets) => {
      const fields: Record<string, string> = {};
      const pinned = new Set<string>();
      for (const s of secrets) {
        fields[s.field] = s.value;
        if (s.pinnedProvider) pinned.add(s.pinnedProvider);
        if (s.value) this.known.add(s.value);
      }
      const value = { fields, redaction: new RedactionSet(secretValuesOf(fields, cred.auth)), pinned: [...pinned] };
      entry.value = value;
      return value;
    });
    this.map.set(key, entry);
    entry.p.catch(() => {
      if (this.map.get(key) === entry) this.map.delete(key);
    });
    return entry.p;
  }

  clear(): void {
    this.map.clear();
  }
}

export interface Injection {
  fields: Record<string, string>;
  redaction: RedactionSet;
  pinned: string[];
}
