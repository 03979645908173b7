import { parse, usage } from '../args.js';
import { data, info, json } from '../output.js';
import { loadRegistry } from '../../registry/load.js';
import { openVault } from '../../vault/open.js';
import { openCatalog, type CredentialStatus } from '../../vault/catalog.js';
import { withAuditedVault } from '../../vault/audited.js';
import { AUTH_OPTIONS, authFromFlags, namesOwnSecrets, type AuthFlags } from './credential-auth.js';

const SUBS = 'create, list or delete';

/** `--secret NAME` (field `secret`) or `--secret field=NAME`, repeatable. */
function secretsMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf('=');
    const [field, name] = eq < 0 ? ['secret', s] : [s.slice(0, eq), s.slice(eq + 1)];
    if (name === '' || field === '') throw usage(`invalid --secret '${s}' (NAME or field=NAME)`);
    if (Object.prototype.hasOwnProperty.call(out, field)) throw usage(`--secret field '${field}' given twice`);
    out[field] = name;
  }
  return out;
}

async function create(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      provider: { type: 'string' },
      secret: { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      ...AUTH_OPTIONS,
    },
    true,
  );
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('credential create needs an ID');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  if (values.provider === undefined) throw usage('credential create needs --provider P');
  const given = secretsMap(values.secret ?? []);
  if (Object.keys(given).length === 0 && !namesOwnSecrets(values.auth)) throw usage('credential create needs --secret NAME');
  const { auth, secrets } = authFromFlags(values as AuthFlags, given);
  const cred = await withAuditedVault((v) =>
    v.createCredential({
      id,
      provider: values.provider!,
      secrets,
      ...(auth !== undefined ? { auth } : {}),
      ...(values.host !== undefined ? { hosts: values.host } : {}),
    }),
  );
  if (values.json) json(cred);
  info(`aivault: credential '${cred.id}' created for provider ${cred.provider} (${cred.auth.strategy} auth, hosts ${cred.hosts.join(', ')})`);
  return 0;
}

function statusJson(s: CredentialStatus) {
  const c = s.credential;
  return { id: c.id, provider: c.provider, custom: c.custom, secretNames: c.secrets, auth: c.auth.strategy, hosts: c.hosts, available: s.available, missing: s.missing };
}

async function list(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' }, all: { type: 'boolean' }, 'workspace-id': { type: 'string' }, 'group-id': { type: 'string' } });
  const vault = await openVault();
  const cat = await openCatalog({
    vault,
    registry: loadRegistry(),
    ...(values['workspace-id'] !== undefined ? { workspaceId: values['workspace-id'] } : {}),
    ...(values['group-id'] !== undefined ? { groupId: values['group-id'] } : {}),
  });
  // Built-in credentials are listed once their secrets exist (or with --all); custom ones always.
  const rows = cat.allCredentials().filter((s) => values.all || s.credential.custom || s.available);
  if (values.json) json(rows.map(statusJson));
  else if (rows.length === 0) info('aivault: no credentials yet: store a provider secret (e.g. aivault secrets create --name OPENAI_API_KEY)');
  else {
    const cells = [['ID', 'PROVIDER', 'KIND', 'AUTH', 'STATUS'], ...rows.map((s) => [
      s.credential.id,
      s.credential.provider,
      s.credential.custom ? 'custom' : 'built-in',
      s.credential.auth.strategy,
      s.available ? 'ready' : `missing ${s.missing.join(', ')}`,
    ])];
    const w = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
    data(cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n'));
  }
  for (const p of cat.problems) info(`aivault: ${p.message}`);
  return cat.problems.length > 0 ? 1 : 0;
}

async function del(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, true);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('credential delete needs an ID');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  await withAuditedVault((v) => v.deleteCredential(id));
  if (values.json) json({ deleted: id });
  info(`aivault: credential '${id}' deleted`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create':
      return create(rest);
    case 'list':
    case 'ls':
      return list(rest);
    case 'delete':
    case 'rm':
      return del(rest);
    case undefined:
      throw usage(`credential needs a subcommand: ${SUBS}`);
    default:
      throw usage(`unknown credential subcommand '${sub}' (${SUBS})`);
  }
}
