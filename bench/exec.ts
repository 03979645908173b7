// exec startup benchmark (startup time is a product feature; issue 12). Interleaved round-robin in
// one run so that machine noise hits every variant alike:
//   bare       node -e 0
//   node-env   node --env-file=X -e 0
//   dotenv     dotenv -e X -- node -e 0          (node_modules/.bin/dotenv, dotenv-cli)
//   aivault    aivault exec --allow openai/chat-completions -- node -e 0   (vault holding OPENAI_API_KEY)
//   floor      a minimal Node launcher (spawn, wait, exit) -- node -e 0: what any Node launcher pays
//   no-cap     aivault exec -- node -e 0 (no capability: no vault)
//   env-file   aivault exec --env-file X --allow openai/chat-completions -- node -e 0 (key from the file)
//   sandbox    aivault exec --sandbox --allow openai/chat-completions -- node -e 0 (when bwrap works)
//   sb-broker  aivault exec --sandbox-net=broker --allow ... -- node -e 0 (adds the in-sandbox relay)
//   intercept  aivault exec --intercept --allow openai/chat-completions -- node -e 0 (run CA, CA files)
// Targets (issue 12): aivault ≤ 0.90× dotenv-cli and ≤ 1.25× the floor launcher; --sandbox adds ≤ 15 ms.
// Phases: the child (node -e 0) reports when it started and ended (performance.timeOrigin), so each
// launcher's time splits into "until the command starts" and "after the command ended".
// AIVAULT_BENCH_ROUNDS overrides the number of rounds (default 25). AIVAULT_BENCH_BASELINE=<path to
// another checkout's bin/aivault.js> adds that launcher's plain exec as a row (before/after in one run).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'aivault.js');
const DOTENV = path.join(ROOT, 'node_modules', '.bin', 'dotenv');
const NODE = process.execPath;
const BASELINE = process.env.AIVAULT_BENCH_BASELINE;

const MINIMAL_LAUNCHER =
  "require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('exit', (c) => process.exit(c ?? 1))";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The measured command: `node -e <this>` reports its own start and end (epoch ms) on stdout. */
const CHILD = "const s=performance.timeOrigin;process.on('exit',()=>process.stdout.write(s+' '+(performance.timeOrigin+performance.now())))";

interface Sample {
  total: number;
  /** from the launcher's spawn to the command's process start */
  toChild: number;
  /** from the command's end to the launcher's exit */
  afterChild: number;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): Sample {
  const t = performance.timeOrigin + performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const end = performance.timeOrigin + performance.now();
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().trim()}`);
  const [cs, ce] = r.stdout.toString().trim().split(' ').map(Number);
  return { total: end - t, toChild: (cs ?? NaN) - t, afterChild: end - (ce ?? NaN) };
}

export async function bench(): Promise<void> {
  const rounds = Math.max(20, Number(process.env.AIVAULT_BENCH_ROUNDS ?? 25) || 25);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-exec-'));
  const nodeE = [NODE, '-e', CHILD];
  try {
    const envFile = path.join(dir, 'bench.env');
    fs.writeFileSync(envFile, 'OPENAI_API_KEY=sk-bench-not-a-real-key\nPORT=3000\nLOG_LEVEL=info\n');
    const vaultDir = path.join(dir, 'vault');
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, AIVAULT_DIR: vaultDir };
    const put = spawnSync(NODE, [BIN, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env: base, input: 'sk-bench-not-a-real-key' });
    if (put.status !== 0) throw new Error(`vault setup failed: ${put.stderr.toString().trim()}`);

    // sandbox runs create empty placeholders for missing credential stores in $HOME: use a temp HOME
    const sbEnv: NodeJS.ProcessEnv = { ...base, HOME: path.join(dir, 'home') };
    fs.mkdirSync(sbEnv.HOME!);
    const sandboxOk = spawnSync(NODE, [BIN, 'exec', '--sandbox', '--', NODE, '-e', '0'], { env: sbEnv, stdio: 'ignore' }).status === 0;
    const ALLOW = ['--allow', 'openai/chat-completions'];
    const aivault = (flags: string[], env: NodeJS.ProcessEnv = base) => () => time(NODE, [BIN, 'exec', ...flags, '--', ...nodeE], env);
    const variants: Array<{ key: string; label: string; run: () => Sample }> = [
      { key: 'bare', label: 'node -e 0', run: () => time(NODE, ['-e', CHILD], base) },
      { key: 'node-env', label: 'node --env-file=X -e 0', run: () => time(NODE, [`--env-file=${envFile}`, '-e', CHILD], base) },
      { key: 'dotenv', label: 'dotenv -e X -- node -e 0', run: () => time(DOTENV, ['-e', envFile, '--', ...nodeE], base) },
      { key: 'aivault', label: 'aivault exec --allow openai/chat-completions -- node -e 0', run: aivault(ALLOW) },
      // calibration: the floor of any Node launcher (spawn the child, wait, exit; no work at all)
      { key: 'floor', label: 'minimal node launcher -- node -e 0', run: () => time(NODE, ['-e', MINIMAL_LAUNCHER, ...nodeE], base) },
      { key: 'no-cap', label: 'aivault exec -- node -e 0 (no capability)', run: aivault([]) },
      { key: 'env-file', label: 'aivault exec --env-file X --allow ... -- node -e 0', run: aivault(['--env-file', envFile, ...ALLOW]) },
      ...(sandboxOk
        ? [
            { key: 'sandbox', label: 'aivault exec --sandbox --allow ... -- node -e 0', run: aivault(['--sandbox', ...ALLOW], sbEnv) },
            { key: 'sb-broker', label: 'aivault exec --sandbox-net=broker --allow ... -- node -e 0', run: aivault(['--sandbox-net=broker', ...ALLOW], sbEnv) },
          ]
        : []),
      { key: 'intercept', label: 'aivault exec --intercept --allow ... -- node -e 0', run: aivault(['--intercept', ...ALLOW]) },
      ...(BASELINE
        ? [{ key: 'baseline', label: 'baseline (AIVAULT_BENCH_BASELINE) exec --allow ...', run: () => time(NODE, [BASELINE, 'exec', ...ALLOW, '--', ...nodeE], base) }]
        : []),
    ];
    const samples = new Map<string, Sample[]>(variants.map((v) => [v.key, []]));
    for (const v of variants) v.run(); // warm the page cache once
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < variants.length; i++) {
        // rotate the starting variant each round so no one always runs first
        const v = variants[(i + r) % variants.length]!;
        samples.get(v.key)!.push(v.run());
      }
    }
    const med = (key: string, f: keyof Sample = 'total'): number => median(samples.get(key)!.map((x) => x[f]));
    const bare = med('bare');
    process.stdout.write(`rounds: ${rounds} (interleaved); medians; "to command" = launcher start → the command's process start, "after" = the command's end → launcher exit\n`);
    for (const v of variants) {
      const m = med(v.key);
      process.stdout.write(
        `${v.label.padEnd(60)} ${m.toFixed(1).padStart(7)} ms  ${(m / bare).toFixed(2)}× bare node   to command ${med(v.key, 'toChild').toFixed(1).padStart(6)}  after ${med(v.key, 'afterChild').toFixed(1).padStart(5)}\n`,
      );
    }
    const av = med('aivault');
    const dot = med('dotenv');
    const floor = med('floor');
    const verdict = (x: number, limit: number) => `${x.toFixed(2)}× (target ≤ ${limit.toFixed(2)}×: ${x <= limit ? 'met' : 'NOT met'})`;
    process.stdout.write(`aivault exec vs dotenv-cli: ${verdict(av / dot, 0.9)}\n`);
    process.stdout.write(`aivault exec vs the floor launcher: ${verdict(av / floor, 1.25)}; aivault's own work adds ${(av - floor).toFixed(1)} ms over the floor `);
    process.stdout.write(`(${(med('aivault', 'toChild') - med('floor', 'toChild')).toFixed(1)} ms before the command starts, ${(med('aivault', 'afterChild') - med('floor', 'afterChild')).toFixed(1)} ms after it ends)\n`);
    if (BASELINE) process.stdout.write(`this aivault exec vs the baseline's: ${(av / med('baseline')).toFixed(2)}× (${(av - med('baseline')).toFixed(1)} ms)\n`);
    process.stdout.write(`--env-file X adds ${(med('env-file') - av).toFixed(1)} ms to the same exec\n`);
    if (sandboxOk) {
      const sb = med('sandbox') - av;
      process.stdout.write(`--sandbox adds ${sb.toFixed(1)} ms to aivault exec (target ≤ 15 ms: ${sb <= 15 ? 'met' : 'NOT met'}); --sandbox-net=broker adds ${(med('sb-broker') - av).toFixed(1)} ms\n`);
    } else {
      process.stdout.write('--sandbox rows skipped: the sandbox cannot run here (see aivault doctor)\n');
    }
    process.stdout.write(`--intercept adds ${(med('intercept') - av).toFixed(1)} ms to the same exec (X.509 code load + run CA + CA files)\n`);
    await caCost();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The run CA alone, in process: loading the X.509 code once, then generating CAs (the ≤ 20 ms target). */
async function caCost(): Promise<void> {
  const t0 = performance.now();
  const { createRunCa } = await import('../src/broker/intercept/ca.js');
  const first = await createRunCa({ hosts: ['api.openai.com'] });
  const t1 = performance.now();
  const gen: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await createRunCa({ hosts: ['api.openai.com', 'api.github.com'] });
    gen.push(performance.now() - s);
  }
  const leaf: number[] = [];
  for (let i = 0; i < 10; i++) {
    const ca = await createRunCa({ hosts: ['api.openai.com'] });
    const s = performance.now();
    await ca.contextFor('api.openai.com');
    leaf.push(performance.now() - s);
  }
  void first;
  process.stdout.write(
    `run CA: first (X.509 code load + generation) ${(t1 - t0).toFixed(1)} ms; generation median ${median(gen).toFixed(1)} ms (target ≤ 20); first leaf per host median ${median(leaf).toFixed(1)} ms\n`,
  );
}
