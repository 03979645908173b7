/** The pipeline's shared shapes: what it needs (context), what it records (audit), what it returns. */
import type { IncomingMessage } from 'node:http';
import type { Catalog, Capability } from '../registry/types.js';
import type { ClientIdentity } from './inject.js';
import type { OAuthTokens } from './oauth.js';
import type { TokenTable } from './tokens.js';
import type { Upstream, UpstreamTarget } from './upstream.js';
import type { RateLimiter } from './rate-limit.js';
import type { StreamRedactor } from './redactor.js';
import type { InjectionCache } from './injections.js';
import type { RoutePlans } from './route-plans.js';

/** What the audit line knows so far about a request. */
export interface RequestRecord {
  runId?: string;
  capability?: string;
  credential?: string;
  method: string;
  host?: string;
  path?: string;
}

export interface PipelineContext {
  catalog: Catalog;
  tokens: TokenTable;
  upstream: Upstream;
  limiter: RateLimiter;
  injections: InjectionCache;
  /** catalog answers per route, computed once (route-plans.ts); created on first use when absent */
  plans?: RoutePlans;
  maxRequestBytes: number;
  oauth?: OAuthTokens;
}

/** A request that passed every policy check, ready for forward(). */
export interface Approved {
  target: UpstreamTarget;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | IncomingMessage | AsyncIterable<Buffer> | null;
  redactor: StreamRedactor;
  capability: Capability;
  bodyState: { tooLarge: boolean };
  /** mtls: the client certificate presented on the upstream TLS connection */
  clientIdentity?: ClientIdentity;
  /** oauth2: one forced refresh after an upstream 401; headers and redactor for the single retry */
  reauth?: () => Promise<{ headers: Record<string, string>; redactor: StreamRedactor }>;
}
