// Per-phase profile of `aivault exec --allow openai/chat-completions -- node -e 0` start-up
// (issue 12). A throwaway copy of the launcher and bundle gets timestamp marks inserted at phase
// boundaries (found by the text of the bundled code; a mark whose text is not found is reported and
// skipped), its own code cache is made the way the build makes it, and the copy runs N times.
// Prints, per mark, the median time since the launcher process started and the median phase length.
// The marks cost a few µs each. `npm run bench exec-phases`; AIVAULT_BENCH_ROUNDS sets N (default 25).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = process.execPath;

/** [label, text in the bundle, where the mark goes relative to it] */
const MARKS: Array<[string, string, 'before' | 'after']> = [
  ['command module loaded', 'const mod2 = await load2();', 'after'],
  ['options resolved', 'const code = await runExec(', 'before'],
  ['registry loaded', 'const registry = deps.loadRegistry();', 'after'],
  ['vault + catalog opened', 'const caps = resolveCapabilities(', 'before'],
  ['vault key loaded', 'await vault.ensureUnlocked();', 'after'],
  ['command looked up in PATH', 'if (!resolved.ok) {', 'before'],
  ['audit log opened', 'state.audit = deps.openAudit(ctx.env);', 'after'],
  ['ports bound', 'listener = await openBrokerListener({ unixSocket });', 'after'],
  ['token minted', 'token = tokens.mint(mint);', 'after'],
  ['run.started written', 'state.started = true;', 'after'],
  ['command spawned', 'const ended = sup.start();', 'after'],
  ['watchdog spawned', 'const watchdog = ownGroup && sup.pid !== void 0 ? startWatchdog(sup.pid) : void 0;', 'after'],
  ['broker attached', 'state.broker = b;', 'after'],
  ['command ended', 'await teardown({ exitCode: outcome.exitCode', 'before'],
  ['torn down (audit flushed)', 'removeExitHook();', 'before'],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function bench(): Promise<void> {
  const rounds = Math.max(5, Number(process.env.AIVAULT_BENCH_ROUNDS ?? 25) || 25);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-phases-'));
  try {
    const copy = path.join(dir, 'pkg');
    for (const d of ['bin', 'scripts']) fs.cpSync(path.join(ROOT, d), path.join(copy, d), { recursive: true });
    fs.mkdirSync(path.join(copy, 'dist'));
    fs.cpSync(path.join(ROOT, 'dist', 'bundle'), path.join(copy, 'dist', 'bundle'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));

    const M = "globalThis.__aivaultMark?.('%s');";
    const bundleFile = path.join(copy, 'dist', 'bundle', 'aivault.cjs');
    let src = fs.readFileSync(bundleFile, 'utf8');
    const nl = src.indexOf('\n');
    const missing: string[] = [];
    for (const [label, text, where] of MARKS) {
      const i = src.indexOf(text);
      if (i < 0) {
        missing.push(label);
        continue;
      }
      const at = where === 'before' ? i : i + text.length;
      src = src.slice(0, at) + M.replace('%s', label) + src.slice(at);
    }
    src = `${src.slice(0, nl + 1)}globalThis.__aivaultMark?.('bundle running');${src.slice(nl + 1)}`;
    fs.writeFileSync(bundleFile, src);
    const loader = path.join(copy, 'bin', 'load-bundle.cjs');
    let ld = fs.readFileSync(loader, 'utf8');
    ld = ld.replace('  const script = new vm.Script(', "  globalThis.__aivaultMark?.('bundle read');\n  const script = new vm.Script(");
    ld = ld.replace('  const mod = { exports: {}', "  globalThis.__aivaultMark?.(script.cachedDataRejected ? 'bundle compiled (cache REJECTED)' : 'bundle compiled');\n  const mod = { exports: {}");
    fs.writeFileSync(loader, ld);
    const launcher = path.join(copy, 'bin', 'aivault.js');
    const lines = fs.readFileSync(launcher, 'utf8').split('\n');
    lines.splice(
      1,
      0,
      "const __marks = [['launcher running', performance.now()]]; globalThis.__aivaultMark = (l) => __marks.push([l, performance.now()]); process.on('exit', () => { __marks.push(['process exit', performance.now()]); process.stderr.write('\\nAIVAULT-MARKS ' + JSON.stringify(__marks) + '\\n'); });",
    );
    fs.writeFileSync(launcher, lines.join('\n'));
    const made = spawnSync(NODE, [path.join(copy, 'scripts', 'code-cache.mjs')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    if (made.status !== 0) throw new Error(`code cache for the marked copy: ${made.stderr}`);

    const env = { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: path.join(dir, 'vault') };
    const put = spawnSync(NODE, [launcher, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env, input: 'sk-bench-not-a-real-key' });
    if (put.status !== 0) throw new Error(`vault setup failed: ${put.stderr.toString().trim()}`);
    const byLabel = new Map<string, number[]>();
    const order: string[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      const out = spawnSync(NODE, [launcher, 'exec', '--allow', 'openai/chat-completions', '--', NODE, '-e', '0'], { env, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`marked exec failed: ${out.stderr}`);
      if (r === 0) continue; // warm-up
      const line = out.stderr.split('\n').find((l) => l.startsWith('AIVAULT-MARKS '));
      for (const [label, t] of JSON.parse(line!.slice('AIVAULT-MARKS '.length)) as Array<[string, number]>) {
        if (!byLabel.has(label)) {
          byLabel.set(label, []);
          order.push(label);
        }
        byLabel.get(label)!.push(t);
      }
    }
    process.stdout.write(`rounds: ${rounds}; ms since the launcher process started (median), and the phase that ends there\n`);
    let prev = 0;
    for (const label of order) {
      const m = median(byLabel.get(label)!);
      process.stdout.write(`${label.padEnd(34)} at ${m.toFixed(1).padStart(6)} ms   phase ${(m - prev).toFixed(1).padStart(5)} ms\n`);
      prev = m;
    }
    if (missing.length) process.stdout.write(`marks not placed (bundle text changed): ${missing.join(', ')}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
