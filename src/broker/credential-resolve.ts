/** Which credential a request uses (named, pinned by the run, or the provider's only one) and its auth slots. */
import type { Catalog, Capability, Credential, ProviderDef } from '../registry/types.js';
import { authSlots, type AuthSlots } from '../auth/slots.js';
import { deny } from './errors.js';

function mergeSlots(a: AuthSlots, b?: AuthSlots): AuthSlots {
  if (!b) return a;
  return {
    headers: [...new Set([...a.headers, ...b.headers])],
    queryParams: [...new Set([...a.queryParams, ...b.queryParams])],
  };
}

export function slotsOf(cred: Credential | undefined, prov: ProviderDef | undefined): AuthSlots {
  let s: AuthSlots = { headers: [], queryParams: [] };
  if (prov) s = mergeSlots(s, authSlots(prov.auth, prov.authSlots));
  if (cred) s = mergeSlots(s, authSlots(cred.auth, prov?.authSlots));
  return s;
}

export function resolveCredential(catalog: Catalog, cap: Capability, explicit: string | undefined, pinned: string | undefined): Credential {
  if (explicit !== undefined) {
    const c = catalog.getCredential(explicit);
    if (!c) throw deny('credential_not_found', `unknown credential '${explicit.slice(0, 80)}'`);
    if (pinned !== undefined && pinned !== c.id) throw deny('policy_violation', `this run is bound to credential '${pinned}'`);
    if (c.provider !== cap.provider) throw deny('policy_violation', `credential '${c.id}' does not belong to provider '${cap.provider}'`);
    return c;
  }
  if (pinned !== undefined) {
    const c = catalog.getCredential(pinned);
    if (!c) throw deny('credential_not_found', `unknown credential '${pinned.slice(0, 80)}'`);
    if (c.provider !== cap.provider) throw deny('policy_violation', `credential '${c.id}' does not belong to provider '${cap.provider}'`);
    return c;
  }
  const all = catalog.credentialsFor(cap.provider);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw deny('credential_not_found', `no credential for provider '${cap.provider}' (store its secret first)`);
  throw deny('credential_ambiguous', `provider '${cap.provider}' has ${all.length} credentials; name one (--credential or /v/<credential>/...)`);
}
