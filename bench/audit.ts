/**
 * Audit benchmarks (issue 14), printed side by side in one run:
 * 1. Per-request cost of the audit path: the same broker with (a) no audit sink, (b) the previous
 *    writer's behaviour (format + keep every line in memory until the end), (c) the group commit
 *    with an fdatasync per group (default), (d) group commit syncing only at the end. Ratios vs (a).
 * 2. Soak: AIVAULT_SOAK_REQUESTS (default 100 000) mixed requests (allowed, SSE, denied, bad token,
 *    aborted downloads and uploads) through ONE real `aivault exec` launcher; launcher RSS and open
 *    fds after warm-up vs at the end (target: RSS within 40 MiB, same fds), wrong answers (0), and
 *    audit lines == requests. AIVAULT_SOAK_HEAP=1 also writes heap snapshots of the launcher at
 *    both points (--heapsnapshot-signal) and prints the constructors that grew.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchCatalog } from './bench-catalog.js';
import { ask, type Msg } from './child-ipc.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '../..');
const TLS = path.join(ROOT, 'fixtures', 'tls');
/** AIVAULT_SOAK_BIN: soak another build's launcher (e.g. a checkout from before issue 14) */
const BIN = process.env.AIVAULT_SOAK_BIN ?? path.join(ROOT, 'bin', 'aivault.js');
const HOST = 'api.example-custom.test';
const SECRET = 'bench-SENTINEL-secret-0123456789';
const out = (s: string): void => void process.stdout.write(s + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


// ---------------------------------------------------------------------------- child: upstream
async function upstreamChild(): Promise<void> {
  const https = await import('node:https');
  const list = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model' }] }));
  const chat = Buffer.from(JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] }));
  const chunk = Buffer.alloc(16 * 1024, 0x78);
  const server = https.createServer({ cert: fs.readFileSync(path.join(TLS, 'leaf.pem')), key: fs.readFileSync(path.join(TLS, 'leaf.key')), keepAlive: true }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url.startsWith('/v1/models/big')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let left = 64;
        const pump = (): void => {
          if (res.destroyed || left-- <= 0) return void res.end();
          res.write(chunk);
          setTimeout(pump, 2);
        };
        pump();
        return;
      }
      if (url.startsWith('/v1/chat/completions')) {
        if (Buffer.concat(parts).includes('"stream":true')) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (let i = 0; i < 3; i++) res.write(`data: {"n":${i}}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': chat.length });
        return void res.end(chat);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': list.length });
      res.end(list);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));
}

// ---------------------------------------------------------------------------- child: broker with an audit mode
async function brokerChild(mode: string, upstreamPort: number): Promise<void> {
  const { startBroker } = await import('../src/broker/server.js');
  const { openAuditLog, formatAuditLine } = await import('../src/audit/log.js');
  const catalog = benchCatalog(HOST, SECRET);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-audit-'));
  const kept: Array<{ file: string; line: string }> = [];
  const audit =
    mode === 'none'
      ? { append: () => undefined, flush: async () => undefined }
      : mode === 'queue' // the writer before issue 14: every line formatted and kept until the end
        ? {
            append: (e: { event: string }) => {
              const ts = new Date().toISOString();
              kept.push({ file: ts.slice(0, 10), line: formatAuditLine(e, ts) });
            },
            flush: async () => undefined,
          }
        : openAuditLog({ dir, groupCommit: { fsync: mode === 'group' ? 'group' : 'end' } });
  const broker = await startBroker({ catalog, audit, runId: 'bench', env: { AIVAULT_DEV_RESOLVE: `${HOST}=127.0.0.1:${upstreamPort}`, AIVAULT_DEV_CA_CERT_PATH: path.join(TLS, 'ca.pem') } });
  const token = broker.mintToken({ runId: 'bench', capabilities: ['bench/all'] });
  process.on('message', (m: Msg) => {
    if (m.type === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage(), stats: 'stats' in audit ? audit.stats : undefined });
    if (m.type === 'exit')
      void broker.close().then(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  process.send!({ type: 'ready', port: broker.port, token });
}

// ---------------------------------------------------------------------------- 1. audit path overhead
async function overhead(upPort: number): Promise<void> {
  const undici = await import('undici');
  const modes = ['none', 'queue', 'group', 'group-end'];
  const label: Record<string, string> = { none: 'no audit', queue: 'old: keep in memory', group: 'group commit + fdatasync/group', 'group-end': 'group commit, sync at end' };
  const kids = new Map<string, { child: ChildProcess; pool: import('undici').Pool; token: string }>();
  for (const m of modes) {
    const child = fork(HERE, ['--bench-child=broker', m, String(upPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const r = await ask(child, { type: 'none' }, 'ready');
    kids.set(m, { child, pool: new undici.Pool(`http://127.0.0.1:${r.port as number}`, { connections: 32 }), token: r.token as string });
  }
  const one = async (k: { pool: import('undici').Pool; token: string }): Promise<void> => {
    const r = await k.pool.request({ method: 'GET', path: '/v/bench/v1/models', headers: { authorization: `Bearer ${k.token}` } });
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
    await r.body.dump();
  };
  const run = async (m: string, n: number, c: number): Promise<{ rps: number; cpuMs: number }> => {
    const k = kids.get(m)!;
    const c0 = (await ask(k.child, { type: 'cpu' }, 'cpu')).usage as NodeJS.CpuUsage;
    let left = n;
    const s = performance.now();
    await Promise.all(Array.from({ length: c }, async () => { while (left-- > 0) await one(k); }));
    const ms = performance.now() - s;
    const c1 = (await ask(k.child, { type: 'cpu' }, 'cpu')).usage as NodeJS.CpuUsage;
    return { rps: n / (ms / 1000), cpuMs: (c1.user - c0.user + c1.system - c0.system) / 1000 };
  };
  for (const m of modes) await run(m, 1000, 8); // warm-up
  const N = 2000;
  const rounds = 3;
  const rps: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const seqP50: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const m of modes) {
      const x = await run(m, N, 32);
      (rps[m] ??= []).push(x.rps);
      (cpu[m] ??= []).push((x.cpuMs / N) * 1000);
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await one(kids.get(m)!);
        times.push(performance.now() - s);
      }
      (seqP50[m] ??= []).push(times.sort((a, b) => a - b)[100]!);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  out(`audit path, ${rounds} interleaved rounds of ${N} requests at c32 + 200 sequential (medians):`);
  for (const m of modes) {
    out(
      `  ${label[m]!.padEnd(32)} ${med(rps[m]!).toFixed(0).padStart(6)} req/s (${(med(rps[m]!) / med(rps.none!)).toFixed(3)}×)  ` +
        `CPU ${med(cpu[m]!).toFixed(1)} ms/1000 req (${(med(cpu[m]!) / med(cpu.none!)).toFixed(3)}×)  seq p50 ${med(seqP50[m]!).toFixed(3)} ms (+${(med(seqP50[m]!) - med(seqP50.none!)).toFixed(3)})`,
    );
  }
  const st = (await ask(kids.get('group')!.child, { type: 'cpu' }, 'cpu')).stats as { groups: number; lines: number; fsyncs: number } | undefined;
  if (st) out(`  group commit: ${st.lines} lines in ${st.groups} groups (${(st.lines / Math.max(1, st.groups)).toFixed(1)} lines/group), ${st.fsyncs} fdatasyncs`);
  for (const k of kids.values()) {
    await k.pool.close();
    k.child.send({ type: 'exit' });
  }
}

// ---------------------------------------------------------------------------- 1b. the audit path alone
// CPU per request line of the audit path itself, in this process, interleaved (robust to a busy
// machine, unlike throughput): the previous writer (format + keep in memory) vs the group commit.
export async function appendCost(): Promise<void> {
  const { openAuditLog, formatAuditLine } = await import('../src/audit/log.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-bench-append-'));
  const ev = (i: number) => ({ event: 'request', runId: 'c7d1a4e0-5b7e-4c1e-9d7b-1f0b8e2a9c33', capability: 'openai/chat-completions', credential: 'openai', method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', status: 200, decision: 'allow', code: null, durationMs: 12.34, bytes: 1000 + i });
  const N = 50_000;
  const modes = {
    old: () => {
      const kept: Array<{ file: string; line: string }> = [];
      return { append: (e: ReturnType<typeof ev>) => { const ts = new Date().toISOString(); kept.push({ file: ts.slice(0, 10), line: formatAuditLine(e, ts) }); }, end: () => kept.length };
    },
    group: () => {
      const log = openAuditLog({ dir, groupCommit: { fsync: 'group' } });
      return { append: (e: ReturnType<typeof ev>) => log.append(e), end: () => (log.flushSync(), 0) };
    },
    'group-end': () => {
      const log = openAuditLog({ dir, groupCommit: { fsync: 'end' } });
      return { append: (e: ReturnType<typeof ev>) => log.append(e), end: () => (log.flushSync(), 0) };
    },
  };
  const cpu: Record<string, number[]> = {};
  for (let r = 0; r < 4; r++) {
    for (const [name, make] of Object.entries(modes)) {
      const m = make();
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) m.append(ev(i));
      m.end();
      const c1 = process.cpuUsage(c0);
      if (r > 0) (cpu[name] ??= []).push(((c1.user + c1.system) / N));
      await sleep(50); // let the thread-pool fsyncs of 'group' finish outside the next measurement
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  out(`audit path alone, CPU per request line (median of 3 × ${N}, main thread): old in-memory ${med(cpu.old!).toFixed(2)} µs · ` +
    `group commit + fdatasync ${med(cpu.group!).toFixed(2)} µs (${(med(cpu.group!) / med(cpu.old!)).toFixed(2)}×) · group commit, sync at end ${med(cpu['group-end']!).toFixed(2)} µs (${(med(cpu['group-end']!) / med(cpu.old!)).toFixed(2)}×)`);
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------- 2. soak through a real launcher
function procStatus(pid: number): { rssMiB: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  return { rssMiB: rss, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

async function waitFile(file: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${file}`);
    await sleep(50);
  }
}

async function heapSnapshot(pid: number, dir: string, before: Set<string>): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    const f = fs.readdirSync(dir).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    if (f) {
      const p = path.join(dir, f);
      let last = -1;
      for (;;) {
        await sleep(500);
        const s = fs.statSync(p).size;
        if (s === last) break;
        last = s;
      }
      before.add(f);
      return p;
    }
  }
  throw new Error('no heap snapshot written');
}

/** count and self size per constructor/name of a .heapsnapshot */
function heapSummary(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: unknown[][] } }; nodes: number[]; strings: string[] };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const step = f.length;
  const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
  const m = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += step) {
    const type = types[snap.nodes[i + iType]!]!;
    const key = type === 'object' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : type;
    const e = m.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize]!;
    m.set(key, e);
  }
  return m;
}

async function soak(upPort: number): Promise<void> {
  const total = Number(process.env.AIVAULT_SOAK_REQUESTS ?? 100_000);
  const warm = Math.min(10_000, Math.floor(total / 10));
  const heap = process.env.AIVAULT_SOAK_HEAP === '1';
  const vault = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-soak-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-soak-state-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: vault, AIVAULT_DIR: vault };
  const c = spawnSync(process.execPath, [BIN, 'secrets', 'create', '--name', 'OPENAI_API_KEY', '--value-stdin'], { env, input: 'sk-bench-SENTINEL-soak' });
  if (c.status !== 0) throw new Error(`secrets create: ${c.stderr.toString()}`);
  const launcherEnv: NodeJS.ProcessEnv = {
    ...env,
    AIVAULT_DEV_RESOLVE: `api.openai.com=127.0.0.1:${upPort}`,
    AIVAULT_DEV_CA_CERT_PATH: path.join(TLS, 'ca.pem'),
    ...(heap ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${state}` } : {}),
  };
  const client = path.join(ROOT, 'dist', 'bench', 'soak-client.js');
  const launcher = spawn(process.execPath, [BIN, 'exec', '--allow', 'openai/models,openai/chat-completions', '--', process.execPath, client, state, String(total), String(warm), '16', ...(process.env.AIVAULT_SOAK_KINDS ? [process.env.AIVAULT_SOAK_KINDS] : [])], {
    env: launcherEnv,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  launcher.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => launcher.on('close', (code) => r(code)));
  const pid = launcher.pid!;
  await waitFile(path.join(state, 'warm'), 600_000);
  await sleep(500);
  const seen = new Set<string>();
  const h0 = heap ? await heapSnapshot(pid, state, seen) : undefined;
  const a = procStatus(pid);
  fs.writeFileSync(path.join(state, 'go'), '');
  await waitFile(path.join(state, 'end'), 3_600_000);
  await sleep(500);
  const h1 = heap ? await heapSnapshot(pid, state, seen) : undefined;
  const b = procStatus(pid);
  const summary = JSON.parse(fs.readFileSync(path.join(state, 'end'), 'utf8')) as { sent: number; counts: Record<string, number>; wrong: number; examples: string[]; soakMs: number };
  fs.writeFileSync(path.join(state, 'exit'), '');
  const code = await exited;
  const lines = fs
    .readdirSync(path.join(vault, 'audit'))
    .flatMap((f) => fs.readFileSync(path.join(vault, 'audit', f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const runId = lines.find((l) => l.event === 'run.started')?.runId;
  const req = lines.filter((l) => l.event === 'request' && l.runId === runId);
  const ended = lines.find((l) => l.event === 'run.ended');
  const byCode: Record<string, number> = {};
  for (const l of req) byCode[String(l.code)] = (byCode[String(l.code)] ?? 0) + 1;
  out(`soak: ${summary.sent} requests through one launcher (${warm} warm-up), ${((summary.sent - warm) / (summary.soakMs / 1000)).toFixed(0)} req/s after warm-up, exit ${code}`);
  out(`  mix: ${Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out(`  launcher RSS after warm-up ${a.rssMiB.toFixed(1)} MiB, at end ${b.rssMiB.toFixed(1)} MiB: ${(b.rssMiB - a.rssMiB >= 0 ? '+' : '')}${(b.rssMiB - a.rssMiB).toFixed(1)} MiB (target within 40)`);
  out(`  launcher open fds after warm-up ${a.fds}, at end ${b.fds} (target equal)`);
  out(`  wrong answers ${summary.wrong}${summary.examples.length ? ' e.g. ' + summary.examples.slice(0, 3).join(' | ') : ''} (target 0)`);
  out(`  audit request lines ${req.length} for ${summary.sent} requests (${req.length === summary.sent ? 'equal' : 'MISMATCH'}); run.ended.requests ${String(ended?.requests)}; codes ${JSON.stringify(byCode)}`);
  if (stderr.trim()) out(`  launcher stderr: ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  if (h0 && h1) {
    const s0 = heapSummary(h0);
    const s1 = heapSummary(h1);
    const rows = [...s1.entries()]
      .map(([k, v]) => ({ k, dc: v.count - (s0.get(k)?.count ?? 0), ds: v.size - (s0.get(k)?.size ?? 0) }))
      .sort((x, y) => y.ds - x.ds)
      .slice(0, 8);
    out(`  heap growth warm-up → end, top by self size: ${rows.map((r) => `${r.k} ${r.dc >= 0 ? '+' : ''}${r.dc} (${(r.ds / 1024).toFixed(0)} KiB)`).join(', ')}`);
  }
  fs.rmSync(vault, { recursive: true, force: true });
  fs.rmSync(state, { recursive: true, force: true });
}

export async function bench(): Promise<void> {
  const up = fork(HERE, ['--bench-child=upstream'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const upPort = (await ask(up, { type: 'none' }, 'ready')).port as number;
  try {
    if (process.env.AIVAULT_SOAK_ONLY !== '1') {
      await appendCost();
      await overhead(upPort);
    }
    if (process.platform === 'linux') await soak(upPort);
    else out('soak: skipped (reads /proc for RSS and fds)');
  } finally {
    up.kill();
  }
}

const childArg = process.argv.find((a) => a.startsWith('--bench-child='));
if (childArg && process.argv[1] && path.resolve(process.argv[1]) === HERE) {
  const kind = childArg.split('=')[1];
  const i = process.argv.indexOf(childArg);
  if (kind === 'upstream') void upstreamChild();
  else if (kind === 'broker') void brokerChild(process.argv[i + 1]!, Number(process.argv[i + 2]));
}
