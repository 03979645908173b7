import { parse, usage } from '../args.js';
import { data, info, json } from '../output.js';
import { AivaultError } from '../../errors/aivault-error.js';
import { loadRegistry } from '../../registry/load.js';
import type { Capability } from '../../registry/types.js';
import { openVault } from '../../vault/open.js';
import { openCatalog, type VaultCatalog } from '../../vault/catalog.js';
import { withAuditedVault } from '../../vault/audited.js';

const SUBS = 'list, describe, create, delete or policy';

const WHERE_OPTS = { 'workspace-id': { type: 'string' }, 'group-id': { type: 'string' } } as const;

async function catalog(v: { 'workspace-id'?: string | undefined; 'group-id'?: string | undefined }): Promise<VaultCatalog> {
  return openCatalog({
    vault: await openVault(),
    registry: loadRegistry(),
    ...(v['workspace-id'] !== undefined ? { workspaceId: v['workspace-id'] } : {}),
    ...(v['group-id'] !== undefined ? { groupId: v['group-id'] } : {}),
  });
}

/** A capability is ready when some credential of its provider is available. */
function readiness(cat: VaultCatalog, cap: Capability) {
  const all = cat.allCredentials().filter((s) => s.credential.provider === cap.provider);
  const ready = all.filter((s) => s.available).map((s) => s.credential.id);
  const needs = [...new Set(all.flatMap((s) => s.missing))];
  return { ready: ready.length > 0, credentials: ready, missingSecrets: ready.length > 0 ? [] : needs };
}

function capJson(cat: VaultCatalog, c: Capability) {
  return { id: c.id, provider: c.provider, custom: c.custom, methods: c.methods, pathPrefixes: c.pathPrefixes, hosts: c.hosts, ...(c.limits ? { limits: c.limits } : {}), ...readiness(cat, c) };
}

function pad(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  '));
}

async function list(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, ...WHERE_OPTS });
  const cat = await catalog(values);
  const caps = cat.allCapabilities();
  if (values.json) {
    json(caps.map((c) => capJson(cat, c)));
  } else {
    const ready: string[][] = [];
    const notReady: string[][] = [];
    for (const c of caps) {
      const r = readiness(cat, c);
      const row = [c.id + (c.custom ? ' (custom)' : ''), c.methods.join(','), c.pathPrefixes.join(' ')];
      if (r.ready) ready.push([...row, `via ${r.credentials.join(', ')}`]);
      else notReady.push([...row, r.missingSecrets.length > 0 ? `needs ${r.missingSecrets.join(', ')}` : 'needs a credential']);
    }
    const out = [`Ready (a credential is available): ${ready.length}`, ...pad(ready), '', `Not ready (no credential yet): ${notReady.length}`, ...pad(notReady)];
    data(out.join('\n'));
  }
  for (const p of cat.problems) info(`aivault: ${p.message}`);
  return cat.problems.length > 0 ? 1 : 0;
}

async function describe(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, ...WHERE_OPTS }, true);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('capability describe needs an ID');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  const cat = await catalog(values);
  const c = cat.getCapability(id);
  if (!c) throw new AivaultError('capability_not_found', `unknown capability '${id}' (see aivault capability list)`);
  const d = capJson(cat, c);
  const p = cat.getProvider(c.provider);
  if (values.json) {
    json({ ...d, ...(c.description ? { description: c.description } : {}), auth: p?.auth.strategy, secretNames: p ? Object.keys(p.vaultSecrets) : [], sdkEnv: p?.sdkEnv ? Object.keys(p.sdkEnv) : [] });
    return 0;
  }
  const lines = [
    `capability:   ${c.id}${c.custom ? ' (custom)' : ''}`,
    ...(c.description ? [`description:  ${c.description}`] : []),
    `provider:     ${c.provider}${p && p.displayName !== p.provider ? ` (${p.displayName})` : ''}`,
    `methods:      ${c.methods.join(' ')}`,
    `path prefixes: ${c.pathPrefixes.join(' ')}`,
    `hosts:        ${c.hosts.join(' ')}`,
    ...(p ? [`auth:         ${p.auth.strategy}`] : []),
    ...(p && Object.keys(p.vaultSecrets).length > 0 ? [`secret names: ${Object.keys(p.vaultSecrets).join(' ')}`] : []),
    ...(p?.sdkEnv ? [`sdk env:      ${Object.keys(p.sdkEnv).join(' ')}`] : []),
    ...(c.limits ? [`limits:       ${JSON.stringify(c.limits)}`] : []),
    `status:       ${d.ready ? `ready via ${d.credentials.join(', ')}` : `not ready${d.missingSecrets.length > 0 ? `: needs ${d.missingSecrets.join(', ')}` : ': needs a credential'}`}`,
  ];
  data(lines.join('\n'));
  return 0;
}

async function create(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      provider: { type: 'string' },
      host: { type: 'string', multiple: true },
      method: { type: 'string', multiple: true },
      'path-prefix': { type: 'string', multiple: true },
      description: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('capability create needs an ID (provider/name)');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  if (values.provider === undefined) throw usage('capability create needs --provider P');
  const methods = (values.method ?? []).flatMap((m) => m.split(',')).filter((m) => m !== '');
  const cap = await withAuditedVault((v) =>
    v.createCapability({
      id,
      provider: values.provider!,
      hosts: values.host ?? [],
      methods,
      pathPrefixes: values['path-prefix'] ?? [],
      ...(values.description !== undefined ? { description: values.description } : {}),
    }),
  );
  if (values.json) json(cap);
  info(`aivault: capability '${cap.id}' created (${cap.methods.join(',')} ${cap.pathPrefixes.join(' ')} on ${cap.hosts.join(', ')})`);
  return 0;
}

async function del(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('capability delete needs an ID');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  await withAuditedVault((v) => v.deleteCapability(id));
  if (values.json) json({ deleted: id });
  info(`aivault: capability '${id}' deleted`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
    case 'ls':
      return list(rest);
    case 'describe':
    case 'show':
      return describe(rest);
    case 'create':
      return create(rest);
    case 'delete':
    case 'rm':
      return del(rest);
    case 'policy':
      return (await import('./capability-policy.js')).policy(rest);
    case undefined:
      throw usage(`capability needs a subcommand: ${SUBS}`);
    default:
      throw usage(`unknown capability subcommand '${sub}' (${SUBS})`);
  }
}
