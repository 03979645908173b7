// Vault benchmark: `secrets list` and `secrets create` at 10, 1 000 and 10 000 secrets, through the
// CLI (what a user waits for, process startup included) and through the library API.
// Pre-population uses the library's bulk import (one lock, one atomic file per record).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openVault } from '../src/vault/open.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'aivault.js');
const SIZES = [10, 1_000, 10_000];
const REPS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cli(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`aivault ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
  return ms;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function bench(): Promise<void> {
  const rows: string[][] = [['secrets', 'populate', 'CLI list', 'CLI create', 'API list', 'API create', 'API get (cold)', 'containsValue (miss)']];
  const dirs: string[] = [];
  try {
    let have = 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-'));
    dirs.push(dir);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: dir, AIVAULT_DIR: dir, AIVAULT_DISABLE_DISK_LOGS: '1' };
    for (const n of SIZES) {
      const v = await openVault({ env });
      const entries = Array.from({ length: n - have }, (_, i) => ({ key: `BENCH_${have + i}`, value: `value-${have + i}-${'x'.repeat(40)}` }));
      const pop = await timeIt(() => v.importEntries(entries));
      have = n;
      const cliList: number[] = [];
      const cliCreate: number[] = [];
      const apiList: number[] = [];
      const apiCreate: number[] = [];
      const apiGet: number[] = [];
      const contains: number[] = [];
      for (let r = 0; r < REPS; r++) {
        cliList.push(cli(['secrets', 'list'], env));
        cliCreate.push(cli(['secrets', 'create', '--name', `EXTRA_CLI_${n}_${r}`, '--value', 'v'], env));
        const fresh = await openVault({ env });
        apiList.push(await timeIt(() => fresh.listSecrets()));
        apiCreate.push(await timeIt(() => fresh.createSecret(`EXTRA_API_${n}_${r}`, 'v')));
        const cold = await openVault({ env });
        apiGet.push(await timeIt(() => cold.getSecretValue(`BENCH_${r}`)));
        if (r === 0) contains.push(await timeIt(() => cold.containsValue('not-a-stored-value')));
      }
      rows.push([
        String(n),
        `${(pop / 1000).toFixed(1)} s`,
        `${median(cliList).toFixed(0)} ms`,
        `${median(cliCreate).toFixed(0)} ms`,
        `${median(apiList).toFixed(1)} ms`,
        `${median(apiCreate).toFixed(1)} ms`,
        `${median(apiGet).toFixed(2)} ms`,
        `${median(contains).toFixed(0)} ms`,
      ]);
    }
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(rows.map((r) => r.map((c, i) => c.padStart(w[i]!)).join('  ')).join('\n') + '\n');
  process.stdout.write(`(medians of ${REPS}; CLI figures include node startup; create includes lock + fsync'd atomic write)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await bench();
