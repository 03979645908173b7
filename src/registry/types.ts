/**
 * Shapes of provider definitions (registry/*.json, SPEC §3) and of the effective
 * credentials/capabilities the broker enforces. Built-in and custom entries share these types
 * so that both get the same enforcement.
 *
 * Templates: `{{field}}` placeholders name a field of the credential's secret map. Single-secret
 * providers use the field `secret`, so `"Bearer {{secret}}"`.
 */

export type AuthStrategyName =
  | 'header'
  | 'query'
  | 'path'
  | 'basic'
  | 'multi-header'
  | 'multi-query'
  | 'oauth2'
  | 'aws-sigv4'
  | 'hmac'
  | 'mtls';

export type AuthSpec =
  /** One header, e.g. {header:"authorization", template:"Bearer {{secret}}"}. */
  | { strategy: 'header'; header: string; template: string }
  /** One query parameter, e.g. {param:"key", template:"{{secret}}"}. */
  | { strategy: 'query'; param: string; template: string }
  /** A path prefix the broker prepends, e.g. {prefix:"/bot{{secret}}"}. */
  | { strategy: 'path'; prefix: string }
  /** HTTP basic: both templates; password may be "" (e.g. Stripe-style key-as-username). */
  | { strategy: 'basic'; username: string; password: string }
  | { strategy: 'multi-header'; headers: Record<string, string> }
  | { strategy: 'multi-query'; params: Record<string, string> }
  /** AWS SigV4; secrets fill accessKeyId, secretAccessKey, [sessionToken]. `serviceByHost` overrides `service` per host. */
  | { strategy: 'aws-sigv4'; region: string; service: string; serviceByHost?: Record<string, string> }
  /** HMAC request signing over a documented canonical input (src/auth/hmac.ts). */
  | {
      strategy: 'hmac';
      algorithm: 'sha256' | 'sha512';
      header: string;
      /** message template: {{method}} {{path}} {{timestamp}} {{timestampMs}} {{nonce}} {{bodyHash}} {{body}} */
      template: string;
      /** header value template: {{signature}} {{timestamp}} {{nonce}} */
      value: string;
      /** '' = not sent */
      timestampHeader: string;
      nonceHeader?: string;
      encoding: 'hex' | 'base64';
      /** secret field holding the key */
      key: string;
      keyEncoding: 'utf8' | 'base64' | 'hex';
      /** extra headers from secret fields (e.g. an API key id) */
      headers?: Record<string, string>;
    }
  /** Client certificate: secrets fill cert and key (PEM). */
  | { strategy: 'mtls' }
  /** OAuth2; secrets fill clientId, [clientSecret], [refreshToken]. */
  | {
      strategy: 'oauth2';
      grant: 'refresh_token' | 'client_credentials';
      tokenUrl: string;
      /** authorization endpoint for `aivault oauth setup` (opened in the user's browser, never by the broker) */
      authorizeUrl?: string;
      scopes?: string[];
      clientAuth?: 'basic' | 'body';
    };

export interface CapabilityDef {
  /** `provider/name` */
  id: string;
  methods: string[];
  pathPrefixes: string[];
  /** Hosts this capability may reach (registry JSON may give a single `host`; the loader normalises to a list). */
  hosts: string[];
  description?: string;
  limits?: CapabilityLimits;
  /** response blocklist: JSON member paths removed from JSON and SSE responses (`data[].email`) */
  blockResponseFields?: string[];
}

export interface CapabilityLimits {
  /** requests per minute; absent = unlimited */
  ratePerMinute?: number;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  timeoutMs?: number;
}

export interface ProviderDef {
  provider: string;
  displayName: string;
  category: 'ai' | 'devtools' | 'communication' | 'payments' | 'productivity' | 'data' | 'other';
  /** Canonical secret names this provider claims, mapped to the template field each fills. */
  vaultSecrets: Record<string, string>;
  auth: AuthSpec;
  hosts: string[];
  capabilities: CapabilityDef[];
  /** Env vars for the child so official SDKs talk to the broker. Values may use {{baseUrl}} and {{token}}. */
  sdkEnv?: Record<string, string>;
  /** Path all of the provider's API lives under (e.g. '/v1'); see src/registry/api-root.ts. */
  apiRoot?: string;
  /** Extra header names/params this provider treats as auth-class (besides the auth spec's own). */
  authSlots?: { headers?: string[]; queryParams?: string[] };
  /** Under `exec --intercept` (SPEC §10) the provider's key variables hold the run token after this
   *  prefix, for tools that check a key's shape (`sk-` for OpenAI, `ghp_` for GitHub). */
  placeholderPrefix?: string;
  /** Extra env vars the provider's tools read a key from (e.g. GH_TOKEN); under --intercept they
   *  hold the placeholder, like the provider's claimed secret name and sdkEnv `{{token}}` entries. */
  keyEnv?: string[];
  docs?: string;
}

/** An effective credential: a provider's auth bound to concrete secrets. */
export interface Credential {
  id: string;
  provider: string;
  /** template field -> secret name (e.g. {secret: "OPENAI_API_KEY"}) */
  secrets: Record<string, string>;
  auth: AuthSpec;
  hosts: string[];
  custom: boolean;
}

/** An effective capability (built-in or custom). */
export interface Capability extends CapabilityDef {
  provider: string;
  custom: boolean;
}

/** One secret a credential needs, resolved for injection. */
export interface ResolvedSecret {
  /** template field, e.g. `secret` */
  field: string;
  /** secret name, e.g. `OPENAI_API_KEY` */
  name: string;
  value: string;
  /** provider this secret is pinned to (SPEC §3), if any */
  pinnedProvider?: string;
}

/**
 * What the broker needs to know about the world: the effective registry (built-ins + custom
 * entries from the vault) and a way to get secret values. Implemented by the vault layer (and by
 * exec for run-only secrets); the broker never touches vault files itself.
 */
export interface Catalog {
  getProvider(id: string): ProviderDef | undefined;
  getCapability(id: string): Capability | undefined;
  /** All effective capabilities of a provider (for `provider/*`). */
  capabilitiesOf(provider: string): Capability[];
  getCredential(id: string): Credential | undefined;
  credentialsFor(provider: string): Credential[];
  /** Values for every field of the credential. Throws AivaultError `vault_locked` or `secret_not_found`. */
  resolveSecrets(credential: Credential): Promise<ResolvedSecret[]>;
  /**
   * oauth2 refresh-token rotation: run `fn` with the current value of the credential's secret for
   * `field`, holding the vault lock, and store what it returns (undefined: unchanged). Optional:
   * without it, rotated values live in the broker's memory for the run only.
   */
  updateSecret?(credential: Credential, field: string, fn: (current: string) => Promise<string | undefined>): Promise<string>;
}
