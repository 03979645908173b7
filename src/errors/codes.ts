/**
 * Stable error codes (SPEC §6) and the HTTP status each maps to.
 * These names are a public API: never rename one.
 */
export const BROKER_ERROR_STATUS = {
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  capability_not_granted: 403,
  method_not_allowed: 403,
  path_not_allowed: 403,
  host_not_allowed: 403,
  auth_header_rejected: 403,
  policy_violation: 403,
  remote_client_rejected: 403,
  invalid_request: 400,
  path_traversal: 400,
  capability_not_found: 404,
  credential_not_found: 404,
  credential_ambiguous: 409,
  body_too_large: 413,
  rate_limited: 429,
  upstream_error: 502,
  redirect_blocked: 502,
  upstream_timeout: 504,
  vault_locked: 503,
  audit_unavailable: 503,
} as const;

export type BrokerErrorCode = keyof typeof BROKER_ERROR_STATUS;

/** Codes for failures outside the broker (CLI, vault, registry, exec). */
export type LocalErrorCode =
  | 'usage'
  | 'vault_corrupt'
  | 'vault_io'
  | 'vault_locked'
  | 'secret_not_found'
  | 'secret_exists'
  | 'secret_pinned'
  | 'passphrase_wrong'
  | 'keychain_unavailable'
  | 'registry_invalid'
  | 'dotenv_syntax'
  | 'capability_not_found'
  | 'credential_not_found'
  | 'credential_ambiguous'
  | 'invalid_request'
  | 'exec_setup';

export type ErrorCode = BrokerErrorCode | LocalErrorCode;

export function isBrokerErrorCode(code: string): code is BrokerErrorCode {
  return Object.prototype.hasOwnProperty.call(BROKER_ERROR_STATUS, code);
}
