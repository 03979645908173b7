/**
 * `aivault exec` end to end: the real CLI (bin/aivault.js) launching real node children, with pipes
 * on stdin/stdout/stderr (so the child runs in its own process group, see src/exec/supervise.ts).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { alive, execModes, fx, hostPid, launch, NODE, tmpDir, vaultWith, waitForFile, waitGone } from './launch.js';

const VAULT_SECRET = 'sk-SENTINEL-vault-openai-7f3a9c';
let vault = '';
let work = '';

before(async () => {
  vault = await vaultWith({ OPENAI_API_KEY: VAULT_SECRET });
  work = tmpDir();
});
after(() => {
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const env = () => ({ AIVAULT_DIR: vault });

// Every test runs plain and again under --sandbox and --sandbox-net=broker (SPEC §9: the process
// contract of §5 holds unchanged inside the sandbox).
for (const mode of execModes()) describe(`exec process contract (${mode.name})`, { skip: mode.skip }, () => {
const ALLOW = [...mode.flags, '--allow', 'openai/chat-completions'];
const at = (pid: number, launcher: number) => hostPid(pid, launcher, mode.sandboxed);
const tag = mode.name.replace(/[^a-z]/g, '');

test('exit codes pass through: 0, 1, 42, 255', async () => {
  for (const code of [0, 1, 42, 255]) {
    const r = await launch([...ALLOW, '--', NODE, fx('exit.mjs'), String(code)], { env: env() }).done;
    assert.equal(r.code, code, `child exit ${code}: ${r.stderr}`);
  }
});

test('death by signal N → 128+N (SIGTERM 143, SIGKILL 137); the launcher itself exits normally', async () => {
  for (const [sig, code] of [['SIGTERM', 143], ['SIGKILL', 137], ['SIGINT', 130]] as const) {
    const r = await launch([...ALLOW, '--', NODE, fx('self-signal.mjs'), sig], { env: env() }).done;
    assert.equal(r.code, code, `${sig}: ${r.stderr}`);
    assert.equal(r.signal, null, 'the launcher does not re-raise');
  }
});

test('command not found → 127, not executable → 126, directory → 126', async () => {
  const noexec = path.join(work, tag + '-noexec.sh');
  fs.writeFileSync(noexec, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const cases: Array<[string[], number, RegExp]> = [
    [['definitely-not-a-command-xyz'], 127, /definitely-not-a-command-xyz: command not found/],
    [['./nope/missing'], 127, /no such file/],
    [[noexec], 126, /permission denied/],
    [[work], 126, /is a directory/],
  ];
  for (const [cmd, code, msg] of cases) {
    const r = await launch([...ALLOW, '--', ...cmd], { env: env() }).done;
    assert.equal(r.code, code, `${cmd[0]}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('launcher failures → 125 and the child never starts', async () => {
  const marker = path.join(work, tag + '-marker-125');
  const child = ['--', NODE, fx('exit.mjs'), '0', marker];
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--allow', 'openai/no-such-thing', ...child], env(), /unknown capability/],
    [['--allow', 'nosuchprovider/*', ...child], env(), /unknown provider/],
    [['--allow', 'anthropic/messages', ...child], env(), /no secret for provider 'anthropic'.*ANTHROPIC_API_KEY/],
    [['--allow', 'openai/models', '--credential', 'nope', ...child], env(), /--credential nope/],
    [[...ALLOW, '--pass-env', 'OPENAI_API_KEY', ...child], { ...env(), OPENAI_API_KEY: 'x' }, /--pass-env OPENAI_API_KEY: refused/],
    [[...ALLOW, '--pass-env', 'COPY', ...child], { ...env(), COPY: VAULT_SECRET }, /--pass-env COPY: refused, its value is a secret/],
    [[...ALLOW, '--pass-env', 'AIVAULT_DIR', ...child], env(), /AIVAULT_\* settings/],
    [[...ALLOW, '--timeout', 'soon', ...child], env(), /--timeout: invalid duration/],
    [[...ALLOW, '--set-env', 'NOVALUE', ...child], env(), /--set-env/],
    [[...ALLOW, '--from-env', 'UNSET_VAR_XYZ', ...child], env(), /--from-env UNSET_VAR_XYZ/],
    [[...ALLOW, '--bogus', ...child], env(), /bogus/],
    [[...ALLOW, NODE, fx('exit.mjs'), '0', marker], env(), /missing '--'/],
    [[...ALLOW, '--'], env(), /missing command/],
    [[...ALLOW, '--profile', 'nope', ...child], env(), /--profile nope/],
  ];
  for (const [args, e, msg] of cases) {
    const r = await launch(args, { env: e, cwd: work }).done;
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(!r.stderr.includes(VAULT_SECRET));
    assert.equal(fs.existsSync(marker), false, `child started for ${args.join(' ')}`);
  }
});

// A missing --env-file: test/exec/revocation.test.ts (aivault's own check, whatever the Node version).

test('locked vault → 125 before the child starts', async () => {
  const dir = await vaultWith({});
  try {
    const { runCli } = await import('./launch.js');
    const init = await runCli(['init', '--provider', 'env', '--key-env', 'MY_KEK'], { env: { AIVAULT_DIR: dir, MY_KEK: Buffer.alloc(32, 7).toString('base64') } });
    assert.equal(init.code, 0, init.stderr);
    const put = await runCli(['secrets', 'create', '--name', 'OPENAI_API_KEY', '--value', 'sk-SENTINEL-locked'], { env: { AIVAULT_DIR: dir, MY_KEK: Buffer.alloc(32, 7).toString('base64') } });
    assert.equal(put.code, 0, put.stderr);
    const marker = path.join(work, tag + '-marker-locked');
    const r = await launch([...ALLOW, '--', NODE, fx('exit.mjs'), '0', marker], { env: { AIVAULT_DIR: dir } }).done;
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /MY_KEK/);
    assert.equal(fs.existsSync(marker), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--timeout: SIGTERM, exit 124', async () => {
  const t0 = Date.now();
  const r = await launch([...ALLOW, '--timeout', '300ms', '--', NODE, fx('sleep.mjs'), '30000'], { env: env() }).done;
  assert.equal(r.code, 124, r.stderr);
  assert.ok(Date.now() - t0 < 10_000);
});

test('--timeout escalates to SIGKILL when the child ignores SIGTERM, still 124', async () => {
  const ready = path.join(work, `${tag}-ready-ignore-timeout`);
  const l = launch([...ALLOW, '--timeout', '1500ms', '--', NODE, fx('ignore-term.mjs'), ready], { env: env() });
  const pid = at(Number(await waitForFile(ready)), l.child.pid!);
  const r = await l.done;
  assert.equal(r.code, 124, r.stderr);
  assert.ok(await waitGone(pid), 'the child is gone');
});

test('a SIGTERM sent to the launcher reaches the child exactly once', async () => {
  const ready = path.join(work, tag + '-ready-count');
  const log = path.join(work, tag + '-log-count');
  const l = launch([...ALLOW, '--', NODE, fx('count-signals.mjs'), ready, log], { env: env() });
  await waitForFile(ready);
  l.child.kill('SIGTERM');
  const r = await l.done;
  assert.equal(fs.readFileSync(log, 'utf8'), 'SIGTERM\n');
  assert.equal(r.code, 101, r.stderr);
});

test('SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGINT each forwarded once', async () => {
  const ready = path.join(work, tag + '-ready-many');
  const log = path.join(work, tag + '-log-many');
  const l = launch([...ALLOW, '--', NODE, fx('count-signals.mjs'), ready, log], { env: env() });
  await waitForFile(ready);
  for (const sig of ['SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGQUIT', 'SIGINT'] as const) {
    l.child.kill(sig);
    await new Promise((res) => setTimeout(res, 100));
  }
  const r = await l.done;
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n').sort(), ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']);
  assert.equal(r.code, 105, r.stderr);
});

test('a second SIGTERM escalates to SIGKILL after the grace period', async () => {
  const ready = path.join(work, tag + '-ready-escalate');
  const l = launch([...ALLOW, '--', NODE, fx('ignore-term.mjs'), ready], { env: env() });
  const pid = at(Number(await waitForFile(ready)), l.child.pid!);
  l.child.kill('SIGTERM');
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(alive(pid), 'the first SIGTERM is only forwarded');
  l.child.kill('SIGTERM');
  const r = await l.done;
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /second interrupt/);
});

test('no orphan: stopping the launcher takes the grandchildren down (even SIGTERM-ignoring ones)', async () => {
  const pidFile = path.join(work, tag + '-grandchild-pid');
  const l = launch([...ALLOW, '--', NODE, fx('grandchild.mjs'), pidFile], { env: env() });
  const gc = at(Number(await waitForFile(pidFile)), l.child.pid!);
  assert.ok(alive(gc));
  l.child.kill('SIGTERM');
  const r = await l.done;
  assert.equal(r.code, 143, r.stderr);
  const gone = await waitGone(gc);
  if (!gone) process.kill(gc, 'SIGKILL');
  assert.ok(gone, 'grandchild survived the launcher');
});

test('stdin passes through to the child', async () => {
  const input = 'hello\nworld\u0000\u00ff\r\n'.repeat(1000);
  const r = await launch([...ALLOW, '--', NODE, fx('stdin-echo.mjs')], { env: env(), input: Buffer.from(input, 'latin1') }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.equals(Buffer.from(input, 'latin1')));
});

test('1 MiB of binary stdout arrives byte-exact, launcher messages only on stderr', async () => {
  const n = 1 << 20;
  const r = await launch([...ALLOW, '--', NODE, fx('binary-out.mjs'), String(n)], { env: env() }).done;
  assert.equal(r.code, 0, r.stderr);
  const want = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    want[i] = (x >>> 16) & 0xff;
  }
  assert.equal(r.stdout.length, n);
  assert.ok(r.stdout.equals(want));
});

test('argv is passed byte-exact, no shell', async () => {
  const out = path.join(work, tag + '-argv.json');
  const args = ['$HOME', '*', '; echo pwned', "'q'", '"dq"', '', ' spaced ', '--', 'ünïcødé', '`id`'];
  const r = await launch([...ALLOW, '--', NODE, fx('env-dump.mjs'), out, ...args], { env: env() }).done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')).argv, args);
});

test('the run token is dead once the launcher has exited, even for a surviving grandchild', async () => {
  // Shutdown alone makes this pass; revocation while the broker is still up: test/exec/revocation.test.ts
  const out = path.join(work, tag + '-token.json');
  const r = await launch([...ALLOW, '--', NODE, fx('token-keeper.mjs'), out], { env: env() }).done;
  assert.equal(r.code, 0, r.stderr);
  const { token, baseUrl, grandchild } = JSON.parse(fs.readFileSync(out, 'utf8')) as { token: string; baseUrl: string; grandchild: number };
  try {
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(token.length >= 43);
    // sandboxed, the detached grandchild ended with the sandbox's PID namespace; plain, it survives
    if (!mode.sandboxed) assert.ok(alive(grandchild), 'the detached grandchild still runs');
    let status: number | 'refused';
    try {
      const res = await fetch(`${baseUrl}/v/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      status = res.status;
    } catch {
      status = 'refused';
    }
    assert.ok(status === 'refused' || status === 401, `token still usable: ${status}`);
  } finally {
    try {
      if (!mode.sandboxed) process.kill(grandchild, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

test('audit: run.started (command name only) and run.ended with the exit code', async () => {
  const r = await launch([...ALLOW, '--', NODE, fx('exit.mjs'), '42', path.join(work, tag + '-sk-SENTINEL-arg-marker')], { env: env() }).done;
  assert.equal(r.code, 42);
  const auditDir = path.join(vault, 'audit');
  const lines = fs
    .readdirSync(auditDir)
    .flatMap((f) => fs.readFileSync(path.join(auditDir, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ended = lines.filter((l) => l.event === 'run.ended' && l.exitCode === 42).pop();
  assert.ok(ended, 'run.ended with exitCode 42');
  const started = lines.find((l) => l.event === 'run.started' && l.runId === ended.runId);
  assert.ok(started);
  assert.equal(started.command, path.basename(NODE));
  assert.deepEqual(started.capabilities, ['openai/chat-completions']);
  assert.equal(started.sandbox, mode.name === 'plain' ? 'off' : mode.name === '--sandbox' ? 'host' : 'broker');
  assert.equal(ended.signal, null);
  assert.equal(typeof ended.durationMs, 'number');
  assert.equal(ended.requests, 0);
  assert.equal(ended.denied, 0);
  const text = fs.readdirSync(auditDir).map((f) => fs.readFileSync(path.join(auditDir, f), 'utf8')).join('');
  assert.ok(!text.includes('sk-SENTINEL'), 'no args, no secret in the audit log');
});

test('launcher SIGKILLed: the watchdog takes down the child and its grandchildren', async () => {
  const pidFile = path.join(work, tag + '-gc-after-kill');
  const l = launch([...ALLOW, '--', NODE, fx('grandchild.mjs'), pidFile], { env: env() });
  const gc = at(Number(await waitForFile(pidFile)), l.child.pid!);
  assert.ok(alive(gc));
  const childPid = at(Number(fs.readFileSync(pidFile + '.child', 'utf8')), l.child.pid!);
  l.child.kill('SIGKILL');
  // not l.done: that waits for the pipes, which the orphans would hold open
  if (l.child.exitCode === null && l.child.signalCode === null) await new Promise((r) => l.child.once('exit', r));
  const gone = (await waitGone(gc)) && (await waitGone(childPid));
  for (const p of [gc, childPid]) if (alive(p)) process.kill(p, 'SIGKILL');
  assert.ok(gone, 'the child or a grandchild survived the launcher being SIGKILLed');
});

test('a normal exit leaves a grandchild the child left behind alone (the watchdog stands down)', { skip: mode.sandboxed && 'sandboxed, a PID namespace ends with its command: nothing it leaves behind survives (see no-orphan tests)' }, async () => {
  const pidFile = path.join(work, tag + '-gc-normal-exit');
  const r = await launch([...ALLOW, '--', NODE, fx('grandchild.mjs'), pidFile, 'exit'], { env: env() }).done;
  assert.equal(r.code, 0, r.stderr);
  const gc = Number(fs.readFileSync(pidFile, 'utf8'));
  await new Promise((res) => setTimeout(res, 500));
  const survived = alive(gc);
  if (survived) process.kill(gc, 'SIGKILL');
  assert.ok(survived, 'the watchdog killed a grandchild after a normal exit');
});
});
