/**
 * Issue 11 item 11: --help is data (stdout, exit 0) for every command and explains every flag;
 * usage errors stay on stderr (exit 2; exec 125); the locked-vault hint of exec names only options
 * exec has; invoke ends its output with a newline on a terminal (and only there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, runCli, tempVaultDir } from './helpers/cli.js';
import { startFakeProvider, reply } from './helpers/fake-provider.js';

/** Flags each command's parser accepts; each must be explained in its --help. */
const FLAGS: Record<string, string[]> = {
  status: ['--json'],
  init: ['--provider', '--key-env', '--passphrase-stdin', '--json'],
  'rotate-master': ['--provider', '--key-env', '--passphrase-stdin', '--new-passphrase-stdin', '--json'],
  secrets: ['--name', '--value', '--value-stdin', '--env-file', '--passphrase-stdin', '--json', '--scope', '--workspace-id', '--group-id'],
  credential: ['--provider', '--secret', '--host', '--auth', '--header-name', '--query-param', '--value-template', '--username', '--password', '--path-prefix', '--all', '--json'],
  capability: ['--provider', '--host', '--method', '--path-prefix', '--description', '--json', '--workspace-id', '--group-id'],
  invoke: ['--method', '--path', '--header', '--body', '--body-file', '--credential'],
  exec: ['--allow', '--credential', '--env-file', '--from-env', '--pass-env', '--set-env', '--timeout', '--workspace-id', '--group-id', '--profile', '--quiet', '--sandbox', '--sandbox-net', '--sandbox-hide', '--sandbox-show', '--sandbox-readonly', '--sandbox-write', '--no-sandbox', '--intercept', '--egress', '--egress-allow'],
  audit: ['--limit', '--run', '--json', '--follow'],
  doctor: ['--json'],
  demo: [],
};

test('aivault --help / -h / help: overview on stdout, exit 0, nothing on stderr; no command at all is a usage error', async () => {
  for (const a of ['--help', '-h', 'help']) {
    const r = await runCli([a]);
    assert.equal(r.code, 0, a);
    assert.equal(r.stderr, '', a);
    for (const cmd of Object.keys(FLAGS)) assert.match(r.stdout, new RegExp(`aivault ${cmd}\\b`), `${a} lists ${cmd}`);
  }
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /Usage:/);
});

for (const [cmd, flags] of Object.entries(FLAGS)) {
  test(`aivault ${cmd} --help: stdout, exit 0, every flag explained`, async () => {
    for (const h of ['--help', '-h']) {
      const r = await runCli([cmd, h]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^Usage:[\\s\\S]*aivault ${cmd}\\b`));
      if (flags.length > 0) assert.match(r.stdout, /\nOptions:\n/);
      for (const f of flags) {
        // the flag starts a line of the Options list (so it is explained, not only in the usage line)
        assert.match(r.stdout, new RegExp(`\\n\\s+(-[A-Za-z], )?${f}\\b[^\\n]*\\S`), `${cmd} --help explains ${f}`);
      }
    }
  });
}

test('usage errors stay on stderr: exit 2 (exec: 125), nothing on stdout', async () => {
  const dir = tempVaultDir();
  for (const argv of [['secrets', 'create'], ['invoke'], ['audit', '--limit', 'x'], ['status', '--bogus']]) {
    const r = await runCli(argv, { env: { AIVAULT_DIR: dir } });
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const e = await runCli(['exec', '--bogus', '--', 'true'], { env: { AIVAULT_DIR: dir } });
  assert.equal(e.code, 125);
  assert.equal(e.stdout, '');
});

test("exec on a locked passphrase vault: 125, and the hint names only options exec has", async () => {
  const dir = tempVaultDir();
  const env = { AIVAULT_DIR: dir };
  let r = await runCli(['init', '--provider', 'passphrase', '--passphrase-stdin'], { env, input: 'pw-hint-1\n' });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env: { ...env, AIVAULT_PASSPHRASE: 'pw-hint-1' }, input: 'sk-SENTINEL-hint' });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['exec', '--allow', 'openai/chat-completions', '--', process.execPath, '-e', 'console.log("child ran")'], { env });
  assert.equal(r.code, 125, r.stderr);
  assert.equal(r.stdout, '', 'the child never ran');
  assert.match(r.stderr, /passphrase-protected/);
  assert.match(r.stderr, /AIVAULT_PASSPHRASE/);
  for (const opt of r.stderr.match(/--[a-z][a-z-]*/g) ?? []) assert.ok(FLAGS.exec!.includes(opt), `the hint names ${opt}, which exec does not have`);
});

const hasScript = process.platform === 'linux' && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('invoke: a newline after a body without one on a terminal; byte-exact into a pipe', { skip: !hasScript && 'util-linux script not available' }, async () => {
  const provider = await startFakeProvider();
  const dir = tempVaultDir();
  try {
    const env = { AIVAULT_DIR: dir, ...provider.devEnv() };
    const s = await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env, input: 'sk-SENTINEL-tty' });
    assert.equal(s.code, 0, s.stderr);
    provider.on('GET', '/v1/models', reply.json(200, { data: [] }));
    const piped = await runCli(['invoke', 'openai/models'], { env });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, '{"data":[]}', 'a pipe gets the body byte for byte');
    // on a pseudo-terminal (stdout is the tty; stderr goes to a file so only stdout is seen)
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const cmd = `${q(process.execPath)} ${q(BIN)} invoke openai/models 2>/dev/null; printf END`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, SHELL: '/bin/sh', TERM: 'dumb', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((res) => child.on('close', res));
    assert.match(out.replace(/\r/g, ''), /\{"data":\[\]\}\nEND/);
  } finally {
    await provider.close();
  }
});
