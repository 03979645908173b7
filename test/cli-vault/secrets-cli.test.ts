import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli, tempVaultDir, type CliResult } from '../helpers/cli.js';
import { openVault } from '../../src/vault/open.js';

const S1 = 'sk-SENTINEL-cli-11111111';
const S2 = 'sk-SENTINEL-cli-22222222';
const S3 = 'SENTINEL-cli-import-333';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

function noSentinel(r: CliResult, ...needles: string[]): void {
  for (const n of [...needles, 'SENTINEL']) {
    assert.equal(r.stdout.includes(n), false, `stdout leaks ${n}`);
    assert.equal(r.stderr.includes(n), false, `stderr leaks ${n}`);
  }
}

function oneLine(r: CliResult, code: number, re?: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /^aivault: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  if (re) assert.match(r.stderr, re);
}

const vaultEnv = (dir: string, extra: Record<string, string> = {}) => ({ AIVAULT_DIR: dir, ...extra });
const value = async (dir: string, name: string, extra: Record<string, string> = {}) =>
  (await openVault({ env: { AIVAULT_DIR: dir, HOME: dir, ...extra } })).getSecretValue(name);

test('secrets create/list/rotate/import/delete: values never printed, never on disk, never in the audit log', async () => {
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  const results: CliResult[] = [];
  const run = async (args: string[], input?: string) => {
    const r = await runCli(args, { env, ...(input !== undefined ? { input } : {}) });
    results.push(r);
    return r;
  };
  let r = await run(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', S1]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stored OPENAI_API_KEY \(global\), pinned to openai/);
  assert.equal(r.stdout, '');
  r = await run(['secrets', 'create', '--name', 'MY_TOKEN', '--value-stdin', '--scope', 'workspace', '--workspace-id', 'w1'], `${S2}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await value(dir, 'MY_TOKEN', {}).catch(() => 'nope'), 'nope', 'workspace-scoped: not visible globally');
  assert.equal(await (await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } })).getSecretValue('MY_TOKEN', { workspaceId: 'w1' }), S2);
  r = await run(['secrets', 'list']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^NAME\s+SCOPE\s+PINNED\s+UPDATED/);
  assert.match(r.stdout, /MY_TOKEN\s+workspace:w1\s+-/);
  assert.match(r.stdout, /OPENAI_API_KEY\s+global\s+openai/);
  r = await run(['secrets', 'list', '--json']);
  const listed = JSON.parse(r.stdout) as { secrets: Array<{ name: string; pinnedProvider: string | null }>; problems: unknown[] };
  assert.deepEqual(listed.secrets.map((s) => s.name), ['MY_TOKEN', 'OPENAI_API_KEY']);
  assert.deepEqual(listed.problems, []);
  r = await run(['secrets', 'rotate', '--name', 'OPENAI_API_KEY', '--value-stdin'], `${S2}\r\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await value(dir, 'OPENAI_API_KEY'), S2, 'CRLF stripped once');
  const envFile = path.join(tempVaultDir(), 'import.env');
  fs.writeFileSync(envFile, `export GITHUB_TOKEN="${S3}"\nOTHER_ONE='${S3}x'\n`);
  r = await run(['secrets', 'import', '--env-file', envFile, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).created.sort(), ['GITHUB_TOKEN', 'OTHER_ONE']);
  assert.equal(await value(dir, 'OTHER_ONE'), `${S3}x`);
  r = await run(['secrets', 'delete', '--name', 'OTHER_ONE']);
  assert.equal(r.code, 0);
  r = await run(['status', '--json']);
  const st = JSON.parse(r.stdout);
  assert.equal(st.provider, 'file');
  assert.equal(st.secretCount, 3);
  assert.match(st.fingerprint, /^[0-9a-f]{16}$/);
  r = await run(['status']);
  assert.match(r.stdout, /key provider: file/);
  const kek = fs.readFileSync(path.join(dir, 'kek.key'), 'utf8').trim();
  for (const x of results) {
    noSentinel(x, S1, S2, S3);
    assert.equal(x.stdout.includes(kek) || x.stderr.includes(kek), false, 'KEK printed');
  }
  const audit = allFiles(path.join(dir, 'audit')).map((f) => fs.readFileSync(f, 'utf8')).join('');
  for (const ev of ['secret.created', 'secret.pinned', 'secret.rotated', 'secret.imported', 'secret.deleted']) assert.ok(audit.includes(`"${ev}"`), ev);
  for (const f of allFiles(dir)) {
    const b = fs.readFileSync(f);
    for (const n of [S1, S2, S3, 'SENTINEL']) assert.equal(b.includes(Buffer.from(n)), false, `${f} holds ${n}`);
  }
});

test('--value-stdin strips exactly one trailing newline', async () => {
  const dir = tempVaultDir();
  const r = await runCli(['secrets', 'create', '--name', 'TWO_NL', '--value-stdin'], { env: vaultEnv(dir), input: 'abc\n\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await value(dir, 'TWO_NL'), 'abc\n');
});

test('usage errors: exit 2 with one line', async () => {
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  const cases: Array<[string[], RegExp]> = [
    [['secrets'], /subcommand/],
    [['secrets', 'frob'], /unknown secrets subcommand 'frob'/],
    [['secrets', 'create', '--value', 'x'], /--name/],
    [['secrets', 'create', '--name'], /--name/],
    [['secrets', 'create', '--name', 'A_B', '--bogus'], /Unknown option '--bogus'/],
    [['secrets', 'create', '--name', 'A_B'], /--value/],
    [['secrets', 'create', '--name', 'A_B', '--value', 'x', '--value-stdin'], /not both/],
    [['secrets', 'create', '--name', 'A_B', '--value', ''], /must not be empty/],
    [['secrets', 'create', '--name', '9BAD', '--value', 'x'], /invalid secret name/],
    [['secrets', 'create', '--name', 'A_B', '--value', 'x', '--scope', 'workspace'], /--workspace-id/],
    [['secrets', 'create', '--name', 'A_B', '--value', 'x', '--scope', 'planet'], /invalid --scope/],
    [['secrets', 'import'], /--env-file/],
    [['secrets', 'list', 'extra'], /Unexpected argument|unexpected/i],
    [['status', '--verbose'], /Unknown option/],
    [['init'], /--provider is required/],
    [['init', '--provider', 'bogus'], /unknown key provider/],
    [['init', '--provider', 'env'], /--key-env/],
    [['credential', 'create', '--provider', 'acme'], /needs an ID/],
    [['credential', 'create', 'x', '--provider', 'acme', '--secret', 'K', '--auth', 'header'], /--header-name/],
    [['capability', 'create', 'acme/x', '--provider', 'acme', '--method', 'GET', '--path-prefix', '/v1'], /--host/],
    [['capability', 'create', 'acme/x', '--provider', 'acme', '--host', 'api.acme.com', '--path-prefix', '/v1'], /--method/],
    [['capability', 'create', 'acme/x', '--provider', 'acme', '--host', 'api.acme.com', '--method', 'GET'], /--path-prefix/],
    [['capability', 'create', 'acme/x', '--provider', 'acme', '--host', 'api.acme.com', '--method', 'GET', '--path-prefix', 'v1'], /start with '\/'/],
    [['capability', 'describe'], /needs an ID/],
    [['rotate-master'], /not initialised/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    oneLine(r, 2, re);
  }
  assert.equal(fs.existsSync(path.join(dir, 'vault.json')), false, 'usage errors write nothing');
});

test('20 concurrent `secrets create` processes all land', async () => {
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => runCli(['secrets', 'create', '--name', `CONC_${i}`, '--value', `v-${i}`], { env, timeoutMs: 60_000 })));
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  const v = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
  const names = (await v.listSecrets()).map((s) => s.name);
  assert.equal(names.length, 20);
  for (let i = 0; i < 20; i++) assert.equal(await v.getSecretValue(`CONC_${i}`), `v-${i}`);
  assert.equal(fs.existsSync(path.join(dir, '.lock')), false);
});

test('a writer SIGKILLed mid-write leaves a vault that loads', async () => {
  const dir = tempVaultDir();
  const seed = await runCli(['secrets', 'create', '--name', 'SEED', '--value', 'seed-v'], { env: vaultEnv(dir) });
  assert.equal(seed.code, 0);
  const modUrl = new URL('../../src/vault/open.js', import.meta.url).href;
  const script = `import { openVault } from ${JSON.stringify(modUrl)};
const v = await openVault({ env: { AIVAULT_DIR: ${JSON.stringify(dir)}, HOME: ${JSON.stringify(dir)} } });
process.stdout.write('go\\n');
for (let i = 0; ; i++) { await v.createSecret('LOOP_' + i, 'val-' + i); await v.rotateSecret('SEED', 'seed-' + i); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res) => child.stdout.once('data', () => res()));
  await new Promise((r) => setTimeout(r, 600));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const list = await runCli(['secrets', 'list', '--json'], { env: vaultEnv(dir) });
  assert.equal(list.code, 0, list.stderr);
  const { secrets, problems } = JSON.parse(list.stdout) as { secrets: Array<{ name: string }>; problems: unknown[] };
  assert.deepEqual(problems, []);
  assert.ok(secrets.length >= 2, `some writes landed (${secrets.length})`);
  const v = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
  for (const s of secrets) {
    const val = await v.getSecretValue(s.name);
    if (s.name === 'SEED') assert.match(val, /^seed-/);
    else assert.equal(val, `val-${s.name.slice(5)}`);
  }
  // the dead writer's lock does not block the next write
  const after = await runCli(['secrets', 'create', '--name', 'AFTER_KILL', '--value', 'x'], { env: vaultEnv(dir) });
  assert.equal(after.code, 0, after.stderr);
});

test('tampered and truncated records: one line naming the file, others keep working', async () => {
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  for (const [n, v] of [['OPENAI_API_KEY', S1], ['GITHUB_TOKEN', S2]]) assert.equal((await runCli(['secrets', 'create', '--name', n!, '--value', v!], { env })).code, 0);
  const v = await openVault({ env: { AIVAULT_DIR: dir, HOME: dir } });
  const file = v.findSecret('GITHUB_TOKEN')!.file;
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').slice(0, 100));
  const r = await runCli(['secrets', 'list'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /OPENAI_API_KEY/);
  assert.doesNotMatch(r.stdout, /GITHUB_TOKEN/);
  oneLine(r, 1, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const ok = await runCli(['secrets', 'rotate', '--name', 'OPENAI_API_KEY', '--value', S2], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await runCli(['secrets', 'rotate', '--name', 'GITHUB_TOKEN', '--value', S1], { env });
  oneLine(bad, 1, /corrupt/);
  noSentinel(r);
  noSentinel(bad);
});

test('simulated write failure: one line, exit 1, nothing lost', async () => {
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  assert.equal((await runCli(['secrets', 'create', '--name', 'KEEP_ME', '--value', 'kept'], { env })).code, 0);
  const r = await runCli(['secrets', 'create', '--name', 'NEW_ONE', '--value', 'x'], { env: { ...env, AIVAULT_TEST_FAIL_WRITE: '/secrets/' } });
  oneLine(r, 1, /could not write .*no space left on device/);
  const r2 = await runCli(['secrets', 'rotate', '--name', 'KEEP_ME', '--value', 'changed'], { env: { ...env, AIVAULT_TEST_FAIL_WRITE: '/secrets/' } });
  oneLine(r2, 1, /no space left/);
  assert.equal(await value(dir, 'KEEP_ME'), 'kept');
  const list = await runCli(['secrets', 'list', '--json'], { env });
  assert.deepEqual(JSON.parse(list.stdout).secrets.map((s: { name: string }) => s.name), ['KEEP_ME']);
});

test('read-only vault directory: one line, exit 1, nothing lost', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root: permissions do not stop writes (covered by the simulated failure test)');
    return;
  }
  const dir = tempVaultDir();
  const env = vaultEnv(dir);
  assert.equal((await runCli(['secrets', 'create', '--name', 'KEEP_ME', '--value', 'kept'], { env })).code, 0);
  fs.chmodSync(path.join(dir, 'secrets'), 0o500);
  fs.chmodSync(dir, 0o500);
  try {
    const r = await runCli(['secrets', 'create', '--name', 'NEW_ONE', '--value', 'x'], { env });
    oneLine(r, 1, /permission denied/);
  } finally {
    fs.chmodSync(dir, 0o700);
    fs.chmodSync(path.join(dir, 'secrets'), 0o700);
  }
  assert.equal(await value(dir, 'KEEP_ME'), 'kept');
});
