/**
 * Terminal mode (stdin is a TTY): the child shares the launcher's process group, so a Ctrl-C typed
 * on the terminal reaches it exactly once (from the terminal; the launcher does not forward it).
 * Uses util-linux `script` to get a pseudo-terminal; skipped where it is not available.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, execModes, fx, NODE, tmpDir, vaultWith, waitForFile } from './launch.js';

const hasScript = process.platform === 'linux' && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

for (const mode of execModes())
test(`Ctrl-C on a terminal reaches the child exactly once; the child keeps the TTY (${mode.name})`, { skip: (!hasScript && 'util-linux script not available') || mode.skip }, async () => {
  const vault = await vaultWith({});
  const work = tmpDir();
  try {
    const ready = path.join(work, 'ready');
    const log = path.join(work, 'log');
    const ttyFile = path.join(work, 'tty');
    // the child also reports whether its stdin is a TTY
    const cmd = [NODE, BIN, 'exec', ...mode.flags, '--', NODE, fx('count-signals.mjs'), ready, log, ttyFile]
      .map(q)
      .join(' ');
    // `exec` so that no intermediate shell sits in the foreground group (it would die of the ^C).
    const child = spawn('script', ['-qfec', `exec ${cmd}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? work, AIVAULT_DIR: vault, SHELL: '/bin/sh', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    await waitForFile(ready);
    child.stdin.write('\x03');
    const code = await done;
    assert.equal(fs.readFileSync(ttyFile, 'utf8'), 'true', 'stdin stays a TTY in the child');
    assert.equal(fs.readFileSync(log, 'utf8'), 'SIGINT\n', `signals seen by the child (output: ${out})`);
    assert.equal(code, 101, out);
  } finally {
    fs.rmSync(vault, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});

// Terminal mode under --sandbox: the command shares the user's terminal, so it must not be able to
// push characters into its input queue (TIOCSTI), which the shell would run after aivault exits.
const hasPython = spawnSync('python3', ['-c', 'import fcntl, termios'], { stdio: 'ignore' }).status === 0;
for (const mode of execModes().filter((m) => m.sandboxed))
test(`terminal mode (${mode.name}): TIOCSTI is refused inside the sandbox`, { skip: (!hasScript && 'util-linux script not available') || (!hasPython && 'python3 not available') || mode.skip }, async () => {
  const vault = await vaultWith({});
  const work = tmpDir();
  try {
    const out = path.join(work, 'tiocsti');
    const py = `import fcntl, termios\ntry:\n  fcntl.ioctl(0, termios.TIOCSTI, b"#")\n  r = "allowed"\nexcept OSError as e:\n  r = "refused %d" % e.errno\nopen(${JSON.stringify(out)}, "w").write(r)\n`;
    const cmd = [NODE, BIN, 'exec', ...mode.flags, '--', 'python3', '-c', py].map(q).join(' ');
    const child = spawn('script', ['-qfec', `exec ${cmd}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: work, AIVAULT_DIR: vault, SHELL: '/bin/sh', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(code, 0, log);
    assert.equal(fs.readFileSync(out, 'utf8'), 'refused 1', 'TIOCSTI must fail with EPERM');
  } finally {
    fs.rmSync(vault, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});

// Terminal mode: the command shares the launcher's process group, so a SIGTERM sent to the launcher
// pid is forwarded to the command pid only (under --sandbox: to the sandbox's pid 2, found by its
// namespace pid; bubblewrap itself ignores it), exactly once.
for (const mode of execModes())
test(`terminal mode (${mode.name}): SIGTERM to the launcher reaches the command exactly once`, { skip: (!hasScript && 'util-linux script not available') || mode.skip }, async () => {
  const vault = await vaultWith({});
  const work = tmpDir();
  try {
    const ready = path.join(work, 'ready');
    const log = path.join(work, 'log');
    const pidFile = path.join(work, 'launcher-pid');
    // the shell writes its pid, then execs the launcher in its place (same pid)
    const cmd = [NODE, BIN, 'exec', ...mode.flags, '--', NODE, fx('count-signals.mjs'), ready, log].map(q).join(' ');
    const child = spawn('script', ['-qfec', `echo $$ > ${q(pidFile)}; exec ${cmd}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: work, AIVAULT_DIR: vault, SHELL: '/bin/sh', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    await waitForFile(ready);
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
    const code = await done;
    assert.equal(fs.readFileSync(log, 'utf8'), 'SIGTERM\n', out);
    assert.equal(code, 101, out);
  } finally {
    fs.rmSync(vault, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});
