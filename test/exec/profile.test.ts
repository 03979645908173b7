import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProfile } from '../../src/exec/profile.js';
import { tempDir } from '../helpers/tmp.js';

function tree(files: Record<string, unknown>): string {
  const root = tempDir('aivault-profile-');
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

test('package.json "aivault".profiles, found from a subdirectory', () => {
  const root = tree({
    'package.json': { name: 'x', aivault: { profiles: { dev: { allow: ['openai/*'], envFile: ['.env'], setEnv: { A: '1' }, timeout: '5m' } } } },
    'src/deep/.keep': '',
  });
  try {
    const p = loadProfile('dev', path.join(root, 'src/deep'));
    assert.deepEqual(p.profile, { allow: ['openai/*'], envFile: ['.env'], setEnv: { A: '1' }, timeout: '5m' });
    assert.equal(p.dir, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('aivault.config.json wins over package.json in the same dir; search stops at the nearest package.json', () => {
  const root = tree({
    'package.json': { aivault: { profiles: { outer: { allow: ['github/repos'] } } } },
    'app/package.json': { name: 'app', aivault: { profiles: { dev: { allow: ['x/y'] } } } },
    'app/aivault.config.json': { profiles: { dev: { allow: ['openai/models'] } } },
  });
  try {
    assert.deepEqual(loadProfile('dev', path.join(root, 'app')).profile.allow, ['openai/models']);
    assert.throws(() => loadProfile('outer', path.join(root, 'app')), /no such profile/);
    assert.deepEqual(loadProfile('outer', root).profile.allow, ['github/repos']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('invalid profiles are usage errors naming the file and field', () => {
  const root = tree({ 'package.json': { aivault: { profiles: { bad: { allow: 'ok', bogus: 1 }, typed: { setEnv: { A: 1 } } } } } });
  try {
    assert.throws(() => loadProfile('bad', root), (e: Error & { code?: string }) => e.code === 'usage' && /profiles\.bad\.bogus: unknown field/.test(e.message));
    assert.throws(() => loadProfile('typed', root), /setEnv\.A: must be a string/);
    assert.throws(() => loadProfile('none', root), /no such profile/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('broken JSON is reported, not crashed on', () => {
  const root = tree({ 'package.json': '{ nope' });
  try {
    assert.throws(() => loadProfile('dev', root), /package\.json: invalid JSON/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
