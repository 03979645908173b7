/**
 * The suite-wide audit scan (issue 13), run by scripts/test.mjs after every test file finished:
 * no audit line any test produced contains any run token or secret any test registered, in any
 * form the independent leak oracle knows. Named *.final.ts so the main run does not pick it up.
 * Non-vacuous on a full run: it requires a minimum of archived audit files, request lines and
 * registered tokens (AIVAULT_TEST_SUITE_FULL=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { findLeak } from '../helpers/leak-oracle.js';
import { SUITE_DIR_ENV } from '../helpers/suite-registry.js';

const dir = process.env[SUITE_DIR_ENV];

function read(sub: string): Array<{ file: string; text: string }> {
  const d = path.join(dir!, sub);
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d).map((f) => ({ file: f, text: fs.readFileSync(path.join(d, f), 'utf8') }));
}

test('no audit file produced anywhere in the suite contains a registered token or secret', { skip: dir ? false : `${SUITE_DIR_ENV} is not set (run through scripts/test.mjs)` }, () => {
  const values = [...new Set(read('sensitive').flatMap((f) => f.text.split('\n')).filter((v) => v.length > 0))];
  const audits = read('audit');
  const lines = audits.flatMap((a) => a.text.split('\n').filter((l) => l.length > 0).map((l) => ({ file: a.file, line: l })));
  const requests = lines.filter((l) => l.line.includes('"event":"request"')).length;
  const tokens = values.filter((v) => /^[A-Za-z0-9_-]{43}$/.test(v)).length;
  console.log(`# audit scan: ${audits.length} audit files, ${lines.length} lines (${requests} request lines), ${values.length} registered values (${tokens} run tokens)`);
  if (process.env.AIVAULT_TEST_SUITE_FULL === '1') {
    assert.ok(audits.length >= 8, `only ${audits.length} audit files were archived`);
    assert.ok(requests >= 50, `only ${requests} request lines were archived`);
    assert.ok(tokens >= 10, `only ${tokens} run tokens were registered`);
  }
  // one pass per value over all text (lines joined), then locate the offending line
  const all = lines.map((l) => l.line).join('\n');
  const secrets = Object.fromEntries(values.map((v, i) => [`value#${i}`, v]));
  const leak = findLeak(all, secrets);
  if (leak) {
    const v = secrets[leak.secret]!;
    const where = lines.find((l) => findLeak(l.line, { v }));
    assert.fail(`the ${leak.form} form of a registered ${/^[A-Za-z0-9_-]{43}$/.test(v) ? 'run token' : 'secret'} is in an audit file (${where?.file}): ${where?.line.slice(0, 300)}`);
  }
});
