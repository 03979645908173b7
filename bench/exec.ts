// exec startup benchmark (startup time is a product feature). Interleaved round-robin in one run so
// that machine noise hits every variant alike:
//   bare       node -e 0
//   node-env   node --env-file=X -e 0
//   dotenv     dotenv -e X -- node -e 0          (node_modules/.bin/dotenv, dotenv-cli)
//   aivault    aivault exec --allow openai/chat-completions -- node -e 0   (vault holding OPENAI_API_KEY)
//   floor      a minimal Node launcher (spawn, wait, exit) -- node -e 0: what any Node launcher pays
//   no-cap     aivault exec -- node -e 0 (no capability: no vault decryption)
//   sandbox    aivault exec --sandbox --allow openai/chat-completions -- node -e 0 (when bwrap works)
//   sb-broker  aivault exec --sandbox-net=broker --allow ... -- node -e 0 (adds the in-sandbox relay)
// Target: --sandbox adds ≤ 15 ms to plain aivault exec.
//   intercept  aivault exec --intercept --allow openai/chat-completions -- node -e 0 (run CA, CA files)
// Prints medians and ratios vs bare node. Target: aivault ≤ 1.8× bare node.
// AIVAULT_BENCH_ROUNDS overrides the number of rounds (default 25).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'aivault.js');
const DOTENV = path.join(ROOT, 'node_modules', '.bin', 'dotenv');
const NODE = process.execPath;

const MINIMAL_LAUNCHER =
  "require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('exit', (c) => process.exit(c ?? 1))";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().trim()}`);
  return ms;
}

export async function bench(): Promise<void> {
  const rounds = Math.max(20, Number(process.env.AIVAULT_BENCH_ROUNDS ?? 25) || 25);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-exec-'));
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
    const variants: Array<[string, () => number]> = [
      ['node -e 0', () => time(NODE, ['-e', '0'], base)],
      ['node --env-file=X -e 0', () => time(NODE, [`--env-file=${envFile}`, '-e', '0'], base)],
      ['dotenv -e X -- node -e 0', () => time(DOTENV, ['-e', envFile, '--', NODE, '-e', '0'], base)],
      ['aivault exec --allow openai/chat-completions -- node -e 0', () => time(NODE, [BIN, 'exec', '--allow', 'openai/chat-completions', '--', NODE, '-e', '0'], base)],
      // calibration: the floor of any Node launcher (spawn the child, wait, exit; no work at all)
      ['minimal node launcher -- node -e 0', () => time(NODE, ['-e', MINIMAL_LAUNCHER, NODE, '-e', '0'], base)],
      ['aivault exec -- node -e 0 (no capability)', () => time(NODE, [BIN, 'exec', '--', NODE, '-e', '0'], base)],
      ...(sandboxOk
        ? ([
            ['aivault exec --sandbox --allow openai/chat-completions -- node -e 0', () => time(NODE, [BIN, 'exec', '--sandbox', '--allow', 'openai/chat-completions', '--', NODE, '-e', '0'], sbEnv)],
            ['aivault exec --sandbox-net=broker --allow ... -- node -e 0', () => time(NODE, [BIN, 'exec', '--sandbox-net=broker', '--allow', 'openai/chat-completions', '--', NODE, '-e', '0'], sbEnv)],
          ] as Array<[string, () => number]>)
        : []),
      ['aivault exec --intercept --allow openai/chat-completions -- node -e 0', () => time(NODE, [BIN, 'exec', '--intercept', '--allow', 'openai/chat-completions', '--', NODE, '-e', '0'], base)],
    ];
    const samples = variants.map(() => [] as number[]);
    for (const [, run] of variants) run(); // warm the page cache once
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < variants.length; i++) {
        // rotate the starting variant each round so no one always runs first
        const k = (i + r) % variants.length;
        samples[k]!.push(variants[k]![1]());
      }
    }
    const bare = median(samples[0]!);
    process.stdout.write(`rounds: ${rounds} (interleaved)\n`);
    for (let i = 0; i < variants.length; i++) {
      const m = median(samples[i]!);
      process.stdout.write(`${variants[i]![0].padEnd(60)} median ${m.toFixed(1).padStart(7)} ms  ${(m / bare).toFixed(2)}× bare node\n`);
    }
    const ratio = median(samples[3]!) / bare;
    const dot = median(samples[2]!);
    process.stdout.write(`aivault exec vs dotenv-cli: ${(median(samples[3]!) / dot).toFixed(2)}×\n`);
    process.stdout.write(`target aivault ≤ 1.80× bare node: ${ratio <= 1.8 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}×)\n`);
    const floor = median(samples[4]!);
    process.stdout.write(
      `launcher floor (minimal node launcher) ${(floor / bare).toFixed(2)}× bare node; aivault's own work adds ${(median(samples[3]!) - floor).toFixed(1)} ms over that floor\n`,
    );
    if (sandboxOk) {
      const plain = median(samples[3]!);
      const sb = median(samples[6]!) - plain;
      const sbb = median(samples[7]!) - plain;
      process.stdout.write(`--sandbox adds ${sb.toFixed(1)} ms to aivault exec (target ≤ 15 ms: ${sb <= 15 ? 'met' : 'NOT met'}); --sandbox-net=broker adds ${sbb.toFixed(1)} ms\n`);
    } else {
      process.stdout.write('--sandbox rows skipped: the sandbox cannot run here (see aivault doctor)\n');
    }
    const ic = variants.findIndex(([n]) => n.startsWith('aivault exec --intercept'));
    process.stdout.write(`--intercept adds ${(median(samples[ic]!) - median(samples[3]!)).toFixed(1)} ms to the same exec (X.509 code load + run CA + CA files)\n`);
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
