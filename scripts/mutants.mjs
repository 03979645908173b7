// `npm run test:mutants`: the project's small mutation check (issue 13). Each entry of
// test/mutants/list.json is a one-spot change to security-critical source (file, exact original
// text, replacement). For each one, in a scratch copy of the repository (node_modules symlinked),
// the mutation is applied, the project is rebuilt (tsc + bundle) and the entry's test files run;
// the mutant must make at least one of them fail ("killed"). Exit 1 if any mutant survives, a
// mutant does not apply or build, or the unmutated baseline is red.
//
//   node scripts/mutants.mjs [--only id,id] [--tests file,file] [--keep] [--timeout SECONDS]
// --tests replaces each selected mutant's test files (to check that one test file alone kills it).
//
// Not part of `npm test` (it rebuilds once per mutant). test/mutants/list.test.ts (in `npm test`)
// checks that every entry still applies to the current source, so refactors cannot rot the list.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: { only: { type: 'string' }, tests: { type: 'string' }, keep: { type: 'boolean', default: false }, timeout: { type: 'string', default: '300' } },
});
const TIMEOUT_MS = Number(opts.timeout) * 1000;
const list = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'mutants', 'list.json'), 'utf8'));
const only = opts.only ? new Set(opts.only.split(',')) : undefined;
const mutants = list.mutants
  .filter((m) => !only || only.has(m.id))
  .map((m) => (opts.tests ? { ...m, tests: opts.tests.split(',') } : m));
if (mutants.length === 0) {
  console.error('no mutants selected');
  process.exit(2);
}

// ---- scratch copy ---------------------------------------------------------------------------
const COPY = ['src', 'test', 'bench', 'scripts', 'registry', 'fixtures', 'bin', 'docs', 'README.md', 'package.json', 'tsconfig.json'];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-mutants-'));
for (const name of COPY) {
  const from = path.join(ROOT, name);
  if (fs.existsSync(from)) fs.cpSync(from, path.join(scratch, name), { recursive: true });
}
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
const cleanup = () => {
  if (!opts.keep) fs.rmSync(scratch, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
function build() {
  const t = spawnSync(TSC, ['-p', 'tsconfig.json'], { cwd: scratch, encoding: 'utf8' });
  if (t.status !== 0) return `tsc: ${(t.stdout + t.stderr).trim().split('\n').slice(0, 5).join(' | ')}`;
  const b = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: scratch, encoding: 'utf8' });
  if (b.status !== 0) return `bundle: ${(b.stdout + b.stderr).trim().split('\n').slice(0, 5).join(' | ')}`;
  return undefined;
}

const compiled = (t) => path.join('dist', t.replace(/\.ts$/, '.js'));

/** Runs the compiled test files; resolves with the exit status and the names of failing tests. */
function runTests(tests) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=tap', ...tests.map(compiled)], {
      cwd: scratch,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const failed = [...out.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]).filter((n) => !/\.js$/.test(n));
      resolve({ code, timedOut, failed });
    });
  });
}

function fmt(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---- baseline -------------------------------------------------------------------------------
const started = Date.now();
const allTests = [...new Set(mutants.flatMap((m) => m.tests))].sort();
console.error(`scratch copy: ${scratch}`);
const baseErr = build();
if (baseErr) {
  console.error(`baseline build failed: ${baseErr}`);
  cleanup();
  process.exit(1);
}
const base = await runTests(allTests);
if (base.code !== 0) {
  console.error(`baseline is red (${base.timedOut ? 'timeout' : `exit ${base.code}`}): ${base.failed.join('; ')}`);
  cleanup();
  process.exit(1);
}
console.error(`baseline green: ${allTests.length} test files in ${fmt(Date.now() - started)}`);

// ---- mutants --------------------------------------------------------------------------------
const rows = [];
for (const m of mutants) {
  const t0 = Date.now();
  const file = path.join(scratch, m.file);
  const pristine = fs.readFileSync(file, 'utf8');
  const count = pristine.split(m.original).length - 1;
  let result;
  let detail = '';
  if (count !== 1) {
    result = 'NOT APPLIED';
    detail = `original text found ${count} times`;
  } else {
    fs.writeFileSync(file, pristine.replace(m.original, () => m.replacement));
    const err = build();
    if (err) {
      result = 'BUILD FAILED';
      detail = err;
    } else {
      const r = await runTests(m.tests);
      if (r.timedOut) {
        result = 'killed';
        detail = 'timeout';
      } else if (r.code !== 0) {
        result = 'killed';
        detail = r.failed.slice(0, 2).join('; ');
      } else result = 'SURVIVED';
    }
    fs.writeFileSync(file, pristine);
  }
  const row = { id: m.id, area: m.area, tests: m.tests.map((t) => path.basename(t, '.test.ts')).join(', '), result, time: Date.now() - t0, detail };
  rows.push(row);
  console.error(`${row.result.padEnd(12)} ${m.id} (${fmt(row.time)})${detail ? ` — ${detail.slice(0, 160)}` : ''}`);
}
// leave the scratch build unmutated for --keep inspection
build();

// ---- report ---------------------------------------------------------------------------------
const lines = ['| mutant | area | tests run | result | time |', '|---|---|---|---|---|'];
for (const r of rows) lines.push(`| ${r.id} | ${r.area} | ${r.tests} | ${r.result} | ${fmt(r.time)} |`);
const bad = rows.filter((r) => r.result !== 'killed');
lines.push('', `${rows.length} mutants, ${rows.length - bad.length} killed, ${bad.length} not killed; total ${fmt(Date.now() - started)} (baseline included)`);
console.log(lines.join('\n'));
cleanup();
process.exit(bad.length === 0 ? 0 : 1);
