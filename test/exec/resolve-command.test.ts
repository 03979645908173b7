import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveCommand } from '../../src/exec/resolve-command.js';
import { tempDir } from '../helpers/tmp.js';

test('PATH lookup like the shell', { skip: process.platform === 'win32' }, () => {
  const root = tempDir('aivault-path-');
  try {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(a, 'tool'), '#!/bin/sh\n', { mode: 0o644 }); // not executable
    fs.writeFileSync(path.join(b, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(a, 'noexec'), 'x', { mode: 0o644 });
    fs.mkdirSync(path.join(a, 'dirname'));
    fs.writeFileSync(path.join(root, 'here'), '#!/bin/sh\n', { mode: 0o755 });
    const pathEnv = `${a}:${b}`;
    const r = (name: string, pe = pathEnv) => resolveCommand(name, { pathEnv: pe, cwd: root });
    assert.deepEqual(r('tool'), { ok: true, file: path.join(b, 'tool') }, 'skips the non-executable match');
    assert.equal((r('noexec') as { exitCode: number }).exitCode, 126);
    assert.equal((r('dirname') as { exitCode: number }).exitCode, 127, 'directories in PATH are skipped');
    assert.equal((r('missing') as { exitCode: number }).exitCode, 127);
    assert.equal((r('here') as { exitCode: number }).exitCode, 127, 'cwd is not searched unless PATH says so');
    assert.deepEqual(r('here', `${a}::${b}`), { ok: true, file: path.join(root, 'here') }, 'empty PATH entry = cwd');
    assert.deepEqual(r('./here'), { ok: true, file: path.join(root, 'here') });
    assert.deepEqual(r(path.join(b, 'tool')), { ok: true, file: path.join(b, 'tool') });
    assert.equal((r('./a') as { exitCode: number }).exitCode, 126, 'a directory given as a path');
    assert.equal((r('./a/noexec') as { exitCode: number }).exitCode, 126);
    assert.equal((r('./nope') as { exitCode: number }).exitCode, 127);
    assert.equal((r('') as { exitCode: number }).exitCode, 127);
    assert.equal((r('tool', '') as { exitCode: number }).exitCode, 127);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
