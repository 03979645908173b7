import { parse, usage } from '../args.js';
import { data, info, json } from '../output.js';
import { loadRegistry } from '../../registry/load.js';
import { openVault } from '../../vault/open.js';
import { openCatalog, type CredentialStatus } from '../../vault/catalog.js';
import { withAuditedVault } from '../../vault/audited.js';

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

interface AuthFlags {
  auth?: string | undefined;
  'header-name'?: string | undefined;
  'value-template'?: string | undefined;
  'query-param'?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  'path-prefix'?: string | undefined;
}

/** Builds an auth spec from flags; the validator (registry rules) checks the details. */
function authSpec(f: AuthFlags, fields: string[]): unknown {
  const only = fields.length === 1 ? `{{${fields[0]}}}` : undefined;
  const template = f['value-template'] ?? only;
  const unused = (names: Array<keyof AuthFlags>) => {
    for (const n of names) {
      if (f[n] === undefined) continue;
      throw usage(f.auth === undefined ? `--${n} needs --auth (header, query, basic or path)` : `--${n} does not apply to --auth ${f.auth}`);
    }
  };
  switch (f.auth) {
    case undefined:
      unused(['header-name', 'value-template', 'query-param', 'username', 'password', 'path-prefix']);
      return undefined;
    case 'header':
      unused(['query-param', 'username', 'password', 'path-prefix']);
      if (f['header-name'] === undefined) throw usage('--auth header needs --header-name NAME');
      if (template === undefined) throw usage('--auth header needs --value-template (e.g. "Bearer {{secret}}")');
      return { strategy: 'header', header: f['header-name'], template };
    case 'query':
      unused(['header-name', 'username', 'password', 'path-prefix']);
      if (f['query-param'] === undefined) throw usage('--auth query needs --query-param NAME');
      if (template === undefined) throw usage('--auth query needs --value-template (e.g. "{{secret}}")');
      return { strategy: 'query', param: f['query-param'], template };
    case 'basic': {
      unused(['header-name', 'value-template', 'query-param', 'path-prefix']);
      const two = fields.includes('username') && fields.includes('password');
      return {
        strategy: 'basic',
        username: f.username ?? (two ? '{{username}}' : (only ?? '')),
        password: f.password ?? (two ? '{{password}}' : ''),
      };
    }
    case 'path':
      unused(['header-name', 'value-template', 'query-param', 'username', 'password']);
      if (f['path-prefix'] === undefined) throw usage('--auth path needs --path-prefix (e.g. "/bot{{secret}}")');
      return { strategy: 'path', prefix: f['path-prefix'] };
    default:
      throw usage(`unsupported --auth '${f.auth}' for custom credentials (header, query, basic or path)`);
  }
}

async function create(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      provider: { type: 'string' },
      secret: { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      auth: { type: 'string' },
      'header-name': { type: 'string' },
      'value-template': { type: 'string' },
      'query-param': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'path-prefix': { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('credential create needs an ID');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  if (values.provider === undefined) throw usage('credential create needs --provider P');
  const secrets = secretsMap(values.secret ?? []);
  if (Object.keys(secrets).length === 0) throw usage('credential create needs --secret NAME');
  const auth = authSpec(values, Object.keys(secrets));
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
