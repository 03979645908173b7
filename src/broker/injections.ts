/** Secret values per credential for the broker (SPEC §6 "auth injected"), cached briefly. */
import type { Catalog, Credential } from '../registry/types.js';
import { secretValuesOf } from '../auth/secret-values.js';
import { RedactionSet } from './redactor.js';

/** Secret values for a credential, cached briefly so a busy run does not decrypt per request. */
export class InjectionCache {
  private readonly map = new Map<string, { at: number; p: Promise<Injection> }>();
  /** Every secret value injected so far (for scrubbing audit lines and messages, SPEC §7a). */
  readonly known = new Set<string>();
  constructor(private readonly ttlMs = 10_000) {}

  get(catalog: Catalog, cred: Credential): Promise<Injection> {
    const key = cred.id;
    const now = Date.now();
    const hit = this.map.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.p;
    const p = catalog.resolveSecrets(cred).then((secrets) => {
      const fields: Record<string, string> = {};
      const pinned = new Set<string>();
      for (const s of secrets) {
        fields[s.field] = s.value;
        if (s.pinnedProvider) pinned.add(s.pinnedProvider);
        if (s.value) this.known.add(s.value);
      }
      return { fields, redaction: new RedactionSet(secretValuesOf(fields, cred.auth)), pinned: [...pinned] };
    });
    this.map.set(key, { at: now, p });
    p.catch(() => this.map.delete(key));
    return p;
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
