import { parse, usage } from '../args.js';
import { data, info, json } from '../output.js';
import { withAuditedVault } from '../../vault/audited.js';
import { makeScope, openVault, scopeLabel, type SecretMeta, type SecretScope } from '../../vault/open.js';
import { promptHidden } from '../../vault/tty-prompt.js';
import { readStdin, stripOneNewline } from '../../vault/read-stdin.js';

const SUBS = 'create, list, rotate, delete, import, attach or detach';

const SCOPE_OPTS = {
  scope: { type: 'string' },
  'workspace-id': { type: 'string' },
  'group-id': { type: 'string' },
} as const;

const VALUE_OPTS = {
  name: { type: 'string' },
  value: { type: 'string' },
  'value-stdin': { type: 'boolean' },
  'passphrase-stdin': { type: 'boolean' },
  json: { type: 'boolean' },
  ...SCOPE_OPTS,
} as const;

function scopeOf(v: { scope?: string | undefined; 'workspace-id'?: string | undefined; 'group-id'?: string | undefined }): SecretScope {
  return makeScope(v.scope, v['workspace-id'], v['group-id']);
}

function requireName(name: string | undefined, sub: string): string {
  if (name === undefined || name === '') throw usage(`secrets ${sub} needs --name NAME`);
  return name;
}

/** Value from --value, --value-stdin (one trailing newline stripped) or a no-echo prompt. */
async function valueOf(v: { value?: string | undefined; 'value-stdin'?: boolean | undefined }, name: string, stdinText: string | undefined): Promise<string> {
  if (v.value !== undefined && v['value-stdin']) throw usage('give either --value or --value-stdin, not both');
  if (v.value !== undefined) return v.value;
  if (v['value-stdin']) return stripOneNewline(stdinText ?? '');
  const typed = await promptHidden(`value for ${name}: `);
  if (typed === undefined) throw usage('give --value V or --value-stdin (stdin is not a terminal)');
  return typed;
}

/** --passphrase-stdin and --value-stdin share stdin: passphrase on the first line, the value after it. */
async function splitStdin(v: { 'value-stdin'?: boolean | undefined; 'passphrase-stdin'?: boolean | undefined }): Promise<{ passphrase?: string; value?: string }> {
  if (!v['passphrase-stdin'] && !v['value-stdin']) return {};
  const text = await readStdin();
  if (!v['passphrase-stdin']) return { value: text };
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  const passphrase = first.endsWith('\r') ? first.slice(0, -1) : first;
  return v['value-stdin'] ? { passphrase, value: nl < 0 ? '' : text.slice(nl + 1) } : { passphrase };
}

function metaJson(m: SecretMeta) {
  return { name: m.name, scope: m.scope, pinnedProvider: m.pinnedProvider, createdAt: m.createdAt, updatedAt: m.updatedAt, id: m.id };
}

function pinNote(m: SecretMeta): string {
  return m.pinnedProvider ? `, pinned to ${m.pinnedProvider}` : '';
}

async function create(argv: string[], rotate: boolean): Promise<number> {
  const sub = rotate ? 'rotate' : 'create';
  const { values } = parse(argv, VALUE_OPTS);
  const name = requireName(values.name, sub);
  const scope = scopeOf(values);
  const stdin = await splitStdin(values);
  const value = await valueOf(values, name, stdin.value);
  const meta = await withAuditedVault(
    (v) => (rotate ? v.rotateSecret(name, value, { scope }) : v.createSecret(name, value, { scope })),
    stdin.passphrase !== undefined ? { passphrase: stdin.passphrase } : {},
  );
  if (values.json) json(metaJson(meta));
  info(`aivault: ${rotate ? 'rotated' : 'stored'} ${meta.name} (${scopeLabel(meta.scope)})${pinNote(meta)}`);
  return 0;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

async function list(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const { secrets, problems } = await (await openVault()).scanSecrets();
  if (values.json) {
    json({ secrets: secrets.map(metaJson), problems: problems.map((p) => ({ file: p.file, message: p.message })) });
  } else if (secrets.length > 0) {
    data(table([['NAME', 'SCOPE', 'PINNED', 'UPDATED'], ...secrets.map((s) => [s.name, scopeLabel(s.scope), s.pinnedProvider ?? '-', s.updatedAt])]));
  } else if (problems.length === 0) {
    info('aivault: no secrets yet (aivault secrets create --name NAME)');
  }
  for (const p of problems) info(`aivault: ${p.message}`);
  return problems.length > 0 ? 1 : 0;
}

async function del(argv: string[]): Promise<number> {
  const { values } = parse(argv, { name: { type: 'string' }, json: { type: 'boolean' }, ...SCOPE_OPTS });
  const name = requireName(values.name, 'delete');
  const scope = scopeOf(values);
  const r = await withAuditedVault((v) => v.deleteSecret(name, { scope }));
  if (values.json) json({ deleted: r.name, scope: r.scope });
  info(`aivault: deleted ${r.name} (${scopeLabel(r.scope)})`);
  return 0;
}

/**
 * `attach` moves a global secret into a workspace or group scope; `detach` moves it back to
 * global. The value never leaves the vault layer (re-sealed with the new scope).
 */
async function move(argv: string[], sub: 'attach' | 'detach'): Promise<number> {
  const { values } = parse(argv, { name: { type: 'string' }, json: { type: 'boolean' }, 'workspace-id': { type: 'string' }, 'group-id': { type: 'string' }, 'passphrase-stdin': { type: 'boolean' } });
  const name = requireName(values.name, sub);
  if (values['workspace-id'] === undefined) throw usage(`secrets ${sub} needs --workspace-id W (and --group-id G for a group)`);
  const scoped = makeScope(undefined, values['workspace-id'], values['group-id']);
  const global: SecretScope = { kind: 'global' };
  const [from, to] = sub === 'attach' ? [global, scoped] : [scoped, global];
  const stdin = await splitStdin(values);
  const m = await withAuditedVault((v) => v.moveSecret(name, from, to), stdin.passphrase !== undefined ? { passphrase: stdin.passphrase } : {});
  if (values.json) json(metaJson(m));
  info(`aivault: moved ${name} from ${scopeLabel(from)} to ${scopeLabel(to)}`);
  return 0;
}

async function importEnv(argv: string[]): Promise<number> {
  const { values } = parse(argv, { 'env-file': { type: 'string' }, 'passphrase-stdin': { type: 'boolean' }, json: { type: 'boolean' }, ...SCOPE_OPTS });
  const file = values['env-file'];
  if (file === undefined || file === '') throw usage('secrets import needs --env-file PATH');
  const scope = scopeOf(values);
  const stdin = await splitStdin(values);
  const r = await withAuditedVault((v) => v.importEnvFile(file, { scope }), stdin.passphrase !== undefined ? { passphrase: stdin.passphrase } : {});
  if (values.json) json(r);
  info(
    `aivault: imported ${file} (${scopeLabel(scope)}): ${r.created.length} created, ${r.rotated.length} rotated, ${r.unchanged.length} unchanged` +
      (r.created.length + r.rotated.length > 0 ? ` [${[...r.created, ...r.rotated].join(', ')}]` : ''),
  );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create':
      return create(rest, false);
    case 'rotate':
      return create(rest, true);
    case 'list':
    case 'ls':
      return list(rest);
    case 'delete':
    case 'rm':
      return del(rest);
    case 'import':
      return importEnv(rest);
    case 'attach':
    case 'detach':
      return move(rest, sub);
    case undefined:
      throw usage(`secrets needs a subcommand: ${SUBS}`);
    default:
      throw usage(`unknown secrets subcommand '${sub}' (${SUBS})`);
  }
}
