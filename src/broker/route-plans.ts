/**
 * What the broker derives from the catalog for a route, computed on the first request that needs
 * it and reused (issue 12: nothing that cannot change during a run is re-derived per request):
 * - per passthrough name (`/v/<name>/`): the named credential or provider, its auth slots, the
 *   headers the run token may sit in, the path-auth template, the apiRoot and the provider's
 *   capabilities compiled;
 * - per grant (a token's capability list) and provider, or upstream host for the intercept door:
 *   the granted capabilities, compiled for inference (src/policy/capability.ts compileCapabilities);
 * - per grant, capability and named credential: the resolved credential, its auth slots and the
 *   concrete hosts the request may go to.
 * The catalog is a snapshot for the broker's life (exec opens it once per run), so its answers are
 * read once. Token validity is not part of any plan: the token is looked up on every request, so a
 * revoked or expired token fails at once. Only successes are kept (a refusal is recomputed, with its
 * message), and only for names and hosts the catalog knows, so callers cannot grow these maps.
 */
import type { Capability, Catalog, Credential, ProviderDef } from '../registry/types.js';
import type { AuthSlots } from '../auth/slots.js';
import { compileCapabilities, type CapabilityMatcher } from '../policy/capability.js';
import { effectiveHosts, isWildcardPattern } from '../policy/host.js';
import type { TokenGrant } from './tokens.js';
import { grantedForHost, grantedOf } from './grants.js';
import { resolveCredential, slotsOf } from './credential-resolve.js';
import { BASE_TOKEN_HEADERS } from './request-checks.js';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface NamePlan {
  /** the name is well-formed (else it is shown as '?') */
  valid: boolean;
  namedCred?: Credential;
  provider?: string;
  provDef?: ProviderDef;
  slots: AuthSlots;
  /** headers where the run token may sit: authorization, x-api-key, then the slots' headers */
  tokenHeaders: string[];
  /** path-auth template (`/bot{{secret}}`) when the route's auth strategy is `path` */
  pathAuthPrefix?: string;
  apiRoot?: string;
  /** the provider's capabilities, compiled (for apiRoot mapping) */
  providerCaps?: CapabilityMatcher;
}

export interface GrantPlan {
  granted: Capability[];
  matcher: CapabilityMatcher;
  creds: Map<string, CredPlan>;
}

export interface CredPlan {
  cred: Credential;
  slots: AuthSlots;
  /** effectiveHosts(cred, cap) without wildcards, in capability order */
  hosts: string[];
}

const NONE: AuthSlots = { headers: [], queryParams: [] };

export class RoutePlans {
  private readonly names = new Map<string, NamePlan>();
  private readonly byGrant = new WeakMap<TokenGrant, Map<string, GrantPlan>>();

  constructor(private readonly catalog: Catalog) {}

  /** The plan of a passthrough name (a fresh, uncached one when the catalog does not know it). */
  name(name: string): NamePlan {
    const hit = this.names.get(name);
    if (hit) return hit;
    const valid = NAME.test(name);
    const namedCred = valid ? this.catalog.getCredential(name) : undefined;
    const provider = namedCred?.provider ?? (valid && this.catalog.getProvider(name) ? name : undefined);
    const provDef = provider ? this.catalog.getProvider(provider) : undefined;
    const slots = provider ? slotsOf(namedCred, provDef) : NONE;
    const pathAuth = namedCred?.auth ?? provDef?.auth;
    const plan: NamePlan = {
      valid,
      slots,
      tokenHeaders: [...new Set([...BASE_TOKEN_HEADERS, ...slots.headers])],
      ...(namedCred ? { namedCred } : {}),
      ...(provider ? { provider } : {}),
      ...(provDef ? { provDef } : {}),
      ...(pathAuth?.strategy === 'path' ? { pathAuthPrefix: pathAuth.prefix } : {}),
      ...(provDef?.apiRoot !== undefined ? { apiRoot: provDef.apiRoot, providerCaps: compileCapabilities(this.catalog.capabilitiesOf(provider!)) } : {}),
    };
    if (provider) this.names.set(name, plan);
    return plan;
  }

  /** Capabilities `grant` gives for one provider (grantedOf), compiled. */
  forProvider(grant: TokenGrant, provider: string): GrantPlan {
    return this.grantPlan(grant, 'p\0' + provider, () => grantedOf(this.catalog, grant.capabilities, provider));
  }

  /** Granted capabilities whose hosts include `host` (grantedForHost), compiled. */
  forHost(grant: TokenGrant, host: string): GrantPlan {
    return this.grantPlan(grant, 'h\0' + host, () => grantedForHost(this.catalog, grant.capabilities, host));
  }

  /** The credential a request of capability `cap` uses (resolveCredential: throws its denials). */
  credential(plan: GrantPlan, grant: TokenGrant, cap: Capability, explicit: string | undefined): CredPlan {
    const key = cap.id + '\0' + (explicit ?? '');
    const hit = plan.creds.get(key);
    if (hit) return hit;
    const cred = resolveCredential(this.catalog, cap, explicit, grant.credential);
    const out: CredPlan = {
      cred,
      slots: slotsOf(cred, this.catalog.getProvider(cred.provider)),
      hosts: effectiveHosts(cred.hosts, cap.hosts).filter((h) => !isWildcardPattern(h)),
    };
    plan.creds.set(key, out);
    return out;
  }

  private grantPlan(grant: TokenGrant, key: string, compute: () => Capability[]): GrantPlan {
    let m = this.byGrant.get(grant);
    if (!m) this.byGrant.set(grant, (m = new Map()));
    const hit = m.get(key);
    if (hit) return hit;
    const granted = compute();
    const plan: GrantPlan = { granted, matcher: compileCapabilities(granted), creds: new Map() };
    if (granted.length > 0) m.set(key, plan);
    return plan;
  }
}
