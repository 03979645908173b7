/**
 * Display redaction of URLs and paths (invoke --verbose, plans, audit, errors). Pure.
 * Path auth puts the secret in the URL ('/bot<secret>/sendMessage'); query auth puts it in the
 * query. Nothing printed may contain it.
 */
import type { AuthSpec } from '../registry/types.js';
import { renderTemplate, templateFields } from './template.js';
import { authSlots } from './slots.js';
import { paramKey } from '../policy/query.js';
import { secretValuesOf } from './secret-values.js';

export const REDACTED = '***';

/**
 * Redact a URL or path for display: every known form of every secret (when `fields` is given)
 * becomes '***', and — whether or not secrets are known — the value of every auth query parameter
 * of `spec` becomes '***'.
 */
export function redactUrlForDisplay(url: string, spec?: AuthSpec, fields?: Record<string, string>): string {
  let out = url;
  if (fields) for (const s of secretValuesOf(fields, spec)) out = out.split(s).join(REDACTED);
  if (spec) {
    const params = authSlots(spec).queryParams.map((p) => paramKey(p) ?? p.toLowerCase());
    if (params.length > 0) {
      const qi = out.indexOf('?');
      if (qi !== -1) {
        const hash = out.indexOf('#', qi);
        const q = out.slice(qi + 1, hash === -1 ? undefined : hash);
        const red = q
          .split('&')
          .map((piece) => {
            const eq = piece.indexOf('=');
            if (eq === -1) return piece;
            const k = paramKey(piece.slice(0, eq));
            return k === undefined || params.includes(k) ? piece.slice(0, eq + 1) + REDACTED : piece;
          })
          .join('&');
        out = out.slice(0, qi + 1) + red + (hash === -1 ? '' : out.slice(hash));
      }
    }
  }
  return out;
}

/**
 * The upstream path as it may be shown before (or without) secrets: for path auth the prefix is
 * rendered with every field replaced by REDACTED (e.g. '/bot' + REDACTED + '/sendMessage');
 * other strategies return `path`.
 */
export function plannedPathForDisplay(spec: AuthSpec, path: string): string {
  if (spec.strategy !== 'path') return path;
  let pre: string;
  try {
    const masked: Record<string, string> = {};
    for (const f of templateFields(spec.prefix)) masked[f] = REDACTED;
    pre = renderTemplate(spec.prefix, masked);
  } catch {
    pre = '/' + REDACTED;
  }
  if (pre.endsWith('/')) pre = pre.slice(0, -1);
  return pre + (path.startsWith('/') ? path : '/' + path);
}
