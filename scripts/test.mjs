// Runs node's built-in test runner over the compiled test files (dist/test/**/*.test.js).
// Node 20's runner takes no globs, so the files are listed here. Optional arg: a subfolder.
// The suite runs with a private TMPDIR; anything named aivault-* left in it afterwards is a test
// that did not clean up: it is listed and the run fails.
// Suite-wide audit scan (issue 13): every test-file process loads dist/test/helpers/suite-preload.js,
// and the run shares one dir (AIVAULT_TEST_SUITE_DIR, outside the private TMPDIR) where tests
// register tokens/secrets and audit files are archived; after all files ran,
// dist/test/suite/audit-scan.final.js scans every archived audit line for every registered value.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join('dist', 'test', process.argv[2] ?? '');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
files.sort();
const tmp = mkdtempSync(join(tmpdir(), 'suite-tmp-'));
const suite = mkdtempSync(join(tmpdir(), 'suite-audit-'));
const env = {
  ...process.env,
  TMPDIR: tmp,
  TMP: tmp,
  TEMP: tmp,
  AIVAULT_TEST_SUITE_DIR: suite,
  AIVAULT_TEST_SUITE_FULL: process.argv[2] ? '0' : '1',
};
const preload = ['--import', './' + join('dist', 'test', 'helpers', 'suite-preload.js')];
// Each run also writes its TAP to a file, so one closing line can count both runs.
const tapOf = (name) => ['--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${join(suite, name)}`];
const r = spawnSync(process.execPath, [...preload, '--test', ...tapOf('main.tap'), '--test-concurrency=2', ...files], { stdio: 'inherit', env });
let status = r.status ?? 1;
const left = readdirSync(tmp).filter((n) => n.startsWith('aivault-'));
if (left.length > 0) {
  process.stderr.write(`\ntest.mjs: the suite left ${left.length} aivault-* entries in its TMPDIR (tests must clean up):\n`);
  for (const n of left.slice(0, 20)) {
    let inside = '';
    try {
      inside = readdirSync(join(tmp, n)).slice(0, 6).join(' ');
    } catch {
      /* a file, not a directory */
    }
    process.stderr.write(`  ${n}${inside ? `: ${inside}` : ''}\n`);
  }
  status = status || 1;
}
const scan = spawnSync(process.execPath, ['--test', ...tapOf('scan.tap'), join('dist', 'test', 'suite', 'audit-scan.final.js')], { stdio: 'inherit', env });
status = status || (scan.status ?? 1);
// The closing line sums both runs (the scan's own summary would otherwise be the last one printed).
const totals = { pass: 0, fail: 0, skipped: 0 };
for (const name of ['main.tap', 'scan.tap']) {
  let tap = '';
  try {
    tap = readFileSync(join(suite, name), 'utf8');
  } catch {
    status = status || 1;
  }
  for (const k of Object.keys(totals)) {
    const all = [...tap.matchAll(new RegExp(`^# ${k} (\\d+)$`, 'gm'))];
    if (all.length) totals[k] += Number(all[all.length - 1][1]);
  }
}
process.stdout.write(`\nsuite: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`);
rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
rmSync(suite, { recursive: true, force: true, maxRetries: 3 });
process.exit(status);
