/**
 * `aivault capability policy set|show|clear ID`: per-capability limits and response blocklists
 * (stored in the vault, applied by every broker that opens it).
 *   --rate N/min (also N/s, N/h; N alone = per minute)  → 429 rate_limited
 *   --max-request-bytes B, --max-response-bytes B (suffix k, M, G, KiB, MiB, GiB) → 413 / cut
 *   --timeout DURATION (500ms, 30s, 2m)                  → 504 upstream_timeout
 *   --block-response-field PATH (repeatable)              → field removed from JSON / SSE responses
 * `set` replaces the whole policy of ID with what is given.
 */
import { parse, usage } from '../args.js';
import { info, json } from '../output.js';
import { loadRegistry } from '../../registry/load.js';
import { openVault } from '../../vault/open.js';
import { openCatalog } from '../../vault/catalog.js';
import { withAuditedVault } from '../../vault/audited.js';
import type { CapabilityPolicy } from '../../vault/policy-store.js';
import { parseDuration } from '../../exec/duration.js';
import { parseFieldPath } from '../../broker/json-filter.js';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw usage(`${flag}: invalid size '${text}' (bytes, or e.g. 512k, 10MiB, 1G)`);
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0) throw usage(`${flag}: size '${text}' out of range`);
  return n;
}

export function parseRate(text: string): number {
  const m = /^\s*(\d+)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?\s*$/.exec(text);
  if (!m) throw usage(`--rate: invalid rate '${text}' (e.g. 60/min, 2/s, 1000/h)`);
  const n = Number(m[1]);
  const per = m[2] ?? 'min';
  const perMin = per.startsWith('s') ? n * 60 : per.startsWith('h') ? n / 60 : n;
  if (!(perMin >= 1) || !Number.isFinite(perMin)) throw usage(`--rate: '${text}' is below 1 request per minute`);
  return Math.floor(perMin);
}

async function known(id: string): Promise<void> {
  const cat = await openCatalog({ vault: await openVault(), registry: loadRegistry() });
  if (!cat.getCapability(id)) throw usage(`unknown capability '${id}' (see: aivault capability list)`);
}

export async function policy(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parse(
    rest,
    {
      rate: { type: 'string' },
      'max-request-bytes': { type: 'string' },
      'max-response-bytes': { type: 'string' },
      timeout: { type: 'string' },
      'block-response-field': { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    true,
  );
  const [id, ...extra] = positionals;
  if (sub !== 'set' && sub !== 'show' && sub !== 'clear') throw usage(`capability policy needs set, show or clear`);
  if (id === undefined) throw usage(`capability policy ${sub} needs a capability ID`);
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  await known(id);
  if (sub === 'show') {
    const p = (await openVault()).listCapabilityPolicies()[id] ?? {};
    if (values.json) json({ capability: id, ...p });
    else info(`aivault: ${id}: ${JSON.stringify(p)}`);
    return 0;
  }
  if (sub === 'clear') {
    await withAuditedVault((v) => v.setCapabilityPolicy(id, null));
    info(`aivault: policy of ${id} cleared`);
    return 0;
  }
  const p: CapabilityPolicy = {};
  const limits: NonNullable<CapabilityPolicy['limits']> = {};
  if (values.rate !== undefined) limits.ratePerMinute = parseRate(values.rate);
  if (values['max-request-bytes'] !== undefined) limits.maxRequestBytes = parseSize(values['max-request-bytes'], '--max-request-bytes');
  if (values['max-response-bytes'] !== undefined) limits.maxResponseBytes = parseSize(values['max-response-bytes'], '--max-response-bytes');
  if (values.timeout !== undefined) limits.timeoutMs = parseDuration(values.timeout, '--timeout');
  if (Object.keys(limits).length > 0) p.limits = limits;
  if (values['block-response-field']) {
    for (const f of values['block-response-field']) {
      try {
        parseFieldPath(f);
      } catch (e) {
        throw usage(`--block-response-field: ${(e as Error).message}`);
      }
    }
    p.blockResponseFields = values['block-response-field'];
  }
  if (Object.keys(p).length === 0) throw usage('capability policy set needs at least one of --rate, --max-request-bytes, --max-response-bytes, --timeout, --block-response-field');
  await withAuditedVault((v) => v.setCapabilityPolicy(id, p));
  if (values.json) json({ capability: id, ...p });
  info(`aivault: policy of ${id} set: ${JSON.stringify(p)}`);
  return 0;
}
