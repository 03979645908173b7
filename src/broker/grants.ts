/** Which capabilities a run's grant gives (by provider, by host) and the "add --allow" hint. */
import type { Catalog, Capability } from '../registry/types.js';
import { coveringCapability, methodAllowed } from '../policy/capability.js';

/** Capabilities the grant gives, for one provider (in grant order; `provider/*` expands). */
export function grantedOf(catalog: Catalog, grant: string[], provider: string): Capability[] {
  const out: Capability[] = [];
  const seen = new Set<string>();
  for (const g of grant) {
    const caps = g.endsWith('/*') ? (g.slice(0, -2) === provider ? catalog.capabilitiesOf(provider) : []) : [catalog.getCapability(g)];
    for (const c of caps) if (c && c.provider === provider && !seen.has(c.id)) (seen.add(c.id), out.push(c));
  }
  return out;
}

/** "; add --allow X" when an ungranted capability of the provider would cover method + path. */
export function allowHint(catalog: Catalog, provider: string, method: string, path: string, granted: Capability[], needMethod = false): string {
  const c = coveringCapability(method, path, catalog.capabilitiesOf(provider));
  if (!c || granted.some((g) => g.id === c.id) || (needMethod && !methodAllowed(method, c))) return '';
  return `; add --allow ${c.id}`;
}

export function isGranted(grant: string[], cap: Capability): boolean {
  return grant.some((g) => g === cap.id || (g.endsWith('/*') && g.slice(0, -2) === cap.provider));
}

/** Granted capabilities (any provider) whose concrete hosts include `host`. */
export function grantedForHost(catalog: Catalog, grant: string[], host: string): Capability[] {
  const out: Capability[] = [];
  const seen = new Set<string>();
  for (const g of grant) {
    const caps = g.endsWith('/*') ? catalog.capabilitiesOf(g.slice(0, -2)) : [catalog.getCapability(g)];
    for (const c of caps) if (c && !seen.has(c.id) && c.hosts.some((h) => h.toLowerCase() === host)) (seen.add(c.id), out.push(c));
  }
  return out;
}
