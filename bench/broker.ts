/**
 * Broker benchmark: the same local HTTPS upstream measured directly and through the broker, side
 * by side in one run. Processes: upstream (child), broker (child, so its CPU time is its own),
 * a minimal node:http -> undici proxy without policy (child, the calibration point), load client
 * (this process, undici). Interleaved rounds, medians. Prints ratios against the targets (issue 12):
 *   broker vs minimal proxy at c32: throughput ≥ 0.9×, CPU per request ≤ 1.2× · added sequential
 *   p50 ≤ 1.2× the minimal proxy's · 512 MiB stream ≥ 0.55 of direct · broker RSS growth while
 *   streaming ≤ 32 MiB.
 * BENCH_PROF=1: CPU-profiles the broker and the minimal proxy over the rounds and prints a per-phase
 * table of each (bench/profile-phases.ts; files in BENCH_PROF_DIR, default $TMPDIR/aivault-bench-prof).
 * BENCH_ROUNDS: number of rounds (default 5).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { benchCatalog } from './bench-catalog.js';
import { ask, type Msg } from './child-ipc.js';
import { startProfile, stopProfile } from './cpu-profile.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '../..');
const TLS = path.join(ROOT, 'fixtures', 'tls');
const HOST = 'api.example-custom.test';
const SECRET = 'bench-SENTINEL-secret-0123456789';
const BIG = 512 * 1024 * 1024;



// ---------------------------------------------------------------------------- child: upstream
async function upstreamChild(): Promise<void> {
  const https = await import('node:https');
  const small = Buffer.from(JSON.stringify({ id: 'x', object: 'bench', ok: true, pad: 'p'.repeat(64) }));
  const chunk = Buffer.alloc(64 * 1024, 120);
  const server = https.createServer(
    { cert: fs.readFileSync(path.join(TLS, 'leaf.pem')), key: fs.readFileSync(path.join(TLS, 'leaf.key')), keepAlive: true },
    (req, res) => {
      req.resume();
      if (req.url?.startsWith('/big') || req.url?.startsWith('/warm')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const size = req.url.startsWith('/warm') ? 64 * 1024 * 1024 : BIG;
        let sent = 0;
        const pump = (): void => {
          while (sent < size) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': small.length });
      res.end(small);
    },
  );
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));
}

/** prof-start / prof-stop (BENCH_PROF): profile a child over the measured window only. */
function profileMessage(m: Msg): void {
  if (m.type === 'prof-start') void startProfile().then(() => process.send!({ type: 'prof-start' }));
  if (m.type === 'prof-stop') void stopProfile(m.file as string).then(() => process.send!({ type: 'prof-stop' }));
}

// ---------------------------------------------------------------------------- child: broker
async function brokerChild(upstreamPort: number): Promise<void> {
  const { startBroker } = await import('../src/broker/server.js');
  const catalog = benchCatalog(HOST, SECRET);
  const audit = { append: () => undefined, flush: async () => undefined };
  const broker = await startBroker({
    catalog,
    audit,
    env: { AIVAULT_DEV_RESOLVE: `${HOST}=127.0.0.1:${upstreamPort}`, AIVAULT_DEV_CA_CERT_PATH: path.join(TLS, 'ca.pem') },
  });
  const token = broker.mintToken({ runId: 'bench', capabilities: ['bench/all'] });
  // SPEC §10: the same broker is also the run's intercepting proxy
  const { caPem } = await broker.enableIntercept('bench', { capabilities: ['bench/all'], egress: 'allow', egressAllow: [] });
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  process.on('message', (m: Msg) => {
    if (m.type === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage() });
    profileMessage(m);
    if (m.type === 'rss-start') {
      global.gc?.();
      const base = process.memoryUsage().rss;
      peak = base;
      sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      process.send!({ type: 'rss-start', base });
    }
    if (m.type === 'rss-stop') {
      clearInterval(sampler);
      process.send!({ type: 'rss-stop', peak });
    }
    if (m.type === 'exit') void broker.close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', port: broker.port, token, caPem });
}

// ---------------------------------------------------------------------------- child: minimal proxy
// The calibration point: node:http -> undici pool.stream to the same upstream, no policy, no
// redaction, no audit. What any Node proxy pays on this machine; the broker is compared to it.
async function bareChild(upstreamPort: number): Promise<void> {
  const http = await import('node:http');
  const undici = await import('undici');
  const connector = undici.buildConnector({ ca: fs.readFileSync(path.join(TLS, 'ca.pem'), 'utf8') });
  const pool = new undici.Pool(`https://${HOST}`, {
    connections: 64,
    connect: (o, cb) => connector({ ...o, hostname: '127.0.0.1', port: String(upstreamPort), servername: HOST }, cb),
  });
  const server = http.createServer((req, res) => {
    pool.stream(
      { path: req.url!.replace(/^\/v\/bench/, ''), method: req.method as 'GET', headers: { authorization: `Bearer ${SECRET}` }, body: req.method === 'GET' ? null : req, opaque: res },
      ({ statusCode, opaque }) => {
        const out = opaque as import('node:http').ServerResponse;
        out.writeHead(statusCode, { 'content-type': 'application/json' });
        return out;
      },
      (err) => {
        if (err && !res.headersSent) res.writeHead(502).end();
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', (m: Msg) => {
    if (m.type === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage() });
    profileMessage(m);
    if (m.type === 'exit') process.exit(0);
  });
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));
}

// ---------------------------------------------------------------------------- load client
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function bench(): Promise<void> {
  const undici = await import('undici');
  /** BENCH_PROF=1: CPU-profile the broker and the minimal proxy over the measured rounds (no
   *  intercept, no stream) and print a per-phase table of each (bench/profile-phases.ts). */
  const profDir = process.env.BENCH_PROF ? (process.env.BENCH_PROF_DIR ?? path.join(os.tmpdir(), 'aivault-bench-prof')) : undefined;
  const up = fork(HERE, ['--bench-child=upstream'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const upPort = (await ask(up, { type: 'none' }, 'ready')).port as number;
  const br = fork(HERE, ['--bench-child=broker', String(upPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
  const ready = await ask(br, { type: 'none' }, 'ready');
  const brPort = ready.port as number;
  const token = ready.token as string;

  const ca = fs.readFileSync(path.join(TLS, 'ca.pem'), 'utf8');
  // "direct": dial the loopback upstream while verifying the certificate for HOST
  const directConnect = undici.buildConnector({ ca });
  const directPool = new undici.Pool(`https://${HOST}`, {
    connections: 64,
    connect: (o, cb) => directConnect({ ...o, hostname: '127.0.0.1', port: String(upPort), servername: HOST }, cb),
  });
  const viaBroker = new undici.Pool(`http://127.0.0.1:${brPort}`, { connections: 64 });
  const bare = fork(HERE, ['--bench-child=bare', String(upPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
  // whatever way this process ends, its children end with it (no server left running)
  process.once('exit', () => {
    for (const c of [up, br, bare]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const barePort = (await ask(bare, { type: 'none' }, 'ready')).port as number;
  const viaBare = new undici.Pool(`http://127.0.0.1:${barePort}`, { connections: 64 });
  // intercepted: a real proxy client (undici ProxyAgent) → CONNECT → TLS with a run-CA leaf → pipeline
  const viaProxy = new undici.ProxyAgent({
    uri: `http://127.0.0.1:${brPort}`,
    token: `Basic ${Buffer.from(`aivault:${token}`).toString('base64')}`,
    requestTls: { ca: ready.caPem as string },
  });
  type T = { pool: import('undici').Dispatcher; path: string; headers: Record<string, string>; origin?: string };
  // the broker and the minimal proxy get the same request (one header); the broker's carries the run token
  const targets: Record<'direct' | 'broker' | 'bare' | 'intercept', T> = {
    direct: { pool: directPool, path: '/v1/small', headers: { authorization: `Bearer ${SECRET}` } },
    broker: { pool: viaBroker, path: '/v/bench/v1/small', headers: { authorization: `Bearer ${token}` } },
    bare: { pool: viaBare, path: '/v/bench/v1/small', headers: { authorization: `Bearer ${'x'.repeat(43)}` } },
    intercept: { pool: viaProxy, origin: `https://${HOST}`, path: '/v1/small', headers: { authorization: `Bearer ${token}` } },
  };
  const one = async (t: T): Promise<void> => {
    const r = await t.pool.request({ method: 'GET', path: t.path, headers: t.headers, ...(t.origin ? { origin: t.origin } : {}) });
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}: ${await r.body.text()}`);
    await r.body.dump();
  };
  const sequential = async (t: T, n: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await one(t);
      times.push(performance.now() - s);
    }
    return times.sort((a, b) => a - b);
  };
  const concurrent = async (t: T, total: number, c: number): Promise<number> => {
    let left = total;
    const s = performance.now();
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (left-- > 0) await one(t);
      }),
    );
    return total / ((performance.now() - s) / 1000);
  };
  const cpuOf = async (child: ChildProcess): Promise<number> => {
    const u = (await ask(child, { type: 'cpu' }, 'cpu')).usage as NodeJS.CpuUsage;
    return (u.user + u.system) / 1000;
  };
  const out = (s: string): void => void process.stdout.write(s + '\n');

  // warm-up every path
  await concurrent(targets.direct, 500, 8);
  await concurrent(targets.broker, 500, 8);
  await concurrent(targets.bare, 500, 8);
  if (!profDir) await concurrent(targets.intercept, 500, 8);
  if (profDir) {
    fs.mkdirSync(profDir, { recursive: true });
    await Promise.all([ask(br, { type: 'prof-start' }, 'prof-start'), ask(bare, { type: 'prof-start' }, 'prof-start')]);
  }

  // Interleaved rounds (the machine is shared: a burst of load elsewhere hits every target of a
  // round alike); the broker and the minimal proxy take turns going first. Medians over rounds.
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const SEQ = 400;
  const N = 3000;
  const seq = { direct: [] as number[], broker: [] as number[], bare: [] as number[] };
  const seqAll = { direct: [] as number[], broker: [] as number[], bare: [] as number[] };
  const c32 = { direct: [] as number[], broker: [] as number[], bare: [] as number[], brokerCpu: [] as number[], bareCpu: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['direct', 'broker', 'bare'] as const) : (['direct', 'bare', 'broker'] as const);
    for (const k of order) {
      const s = await sequential(targets[k], SEQ);
      seq[k].push(pct(s, 50));
      seqAll[k].push(...s);
    }
    for (const k of order) {
      const child = k === 'broker' ? br : k === 'bare' ? bare : undefined;
      const c0 = child ? await cpuOf(child) : 0;
      c32[k].push(await concurrent(targets[k], N, 32));
      if (child) (k === 'broker' ? c32.brokerCpu : c32.bareCpu).push(((child ? await cpuOf(child) : 0) - c0) / N * 1000);
    }
  }
  const perRound = (a: number[], b: number[], f: (x: number, y: number) => number): number[] => a.map((x, i) => f(x, b[i]!));
  const p50d = median(seq.direct), p50b = median(seq.broker), p50bare = median(seq.bare);
  const addB = median(perRound(seq.broker, seq.direct, (x, y) => x - y));
  const addBare = median(perRound(seq.bare, seq.direct, (x, y) => x - y));
  for (const k of ['direct', 'broker', 'bare'] as const) seqAll[k].sort((a, b) => a - b);
  out(`${ROUNDS} interleaved rounds (${SEQ} sequential + ${N} at c32 per target per round), medians over rounds`);
  out(`sequential  direct p50 ${p50d.toFixed(3)} ms p99 ${pct(seqAll.direct, 99).toFixed(3)} ms | broker p50 ${p50b.toFixed(3)} ms p99 ${pct(seqAll.broker, 99).toFixed(3)} ms | minimal proxy p50 ${p50bare.toFixed(3)} ms p99 ${pct(seqAll.bare, 99).toFixed(3)} ms`);
  out(`            added p50: broker ${addB.toFixed(3)} ms, minimal proxy (calibration) ${addBare.toFixed(3)} ms | broker vs minimal proxy ${(addB / addBare).toFixed(2)}× (target ≤ 1.2)`);
  const tRatio = median(perRound(c32.broker, c32.bare, (x, y) => x / y));
  const cRatio = median(perRound(c32.brokerCpu, c32.bareCpu, (x, y) => x / y));
  out(`c32         direct ${median(c32.direct).toFixed(0)} req/s | broker ${median(c32.broker).toFixed(0)} req/s (${median(perRound(c32.broker, c32.direct, (x, y) => x / y)).toFixed(2)} of direct) | minimal proxy ${median(c32.bare).toFixed(0)} req/s (${median(perRound(c32.bare, c32.direct, (x, y) => x / y)).toFixed(2)} of direct)`);
  out(`CPU         broker ${median(c32.brokerCpu).toFixed(1)} ms per 1 000 requests | minimal proxy ${median(c32.bareCpu).toFixed(1)} ms per 1 000`);
  out(`calibration broker vs minimal node:http -> undici proxy (no policy): throughput ${tRatio.toFixed(2)}× (target ≥ 0.9), CPU per request ${cRatio.toFixed(2)}× (target ≤ 1.2)`);

  if (profDir) {
    const files = { broker: path.join(profDir, 'broker.cpuprofile'), bare: path.join(profDir, 'minimal-proxy.cpuprofile') };
    await Promise.all([ask(br, { type: 'prof-stop', file: files.broker }, 'prof-stop'), ask(bare, { type: 'prof-stop', file: files.bare }, 'prof-stop')]);
    const { phaseTable } = await import('./profile-phases.js');
    const served = ROUNDS * (SEQ + N);
    for (const [name, f] of Object.entries(files)) out('\n' + phaseTable(`${name} (${f})`, JSON.parse(fs.readFileSync(f, 'utf8')) as import('./profile-phases.js').CpuProfile, served));
    await Promise.all([directPool.close(), viaBroker.close(), viaBare.close(), viaProxy.close()]);
    bare.send({ type: 'exit' });
    br.send({ type: 'exit' });
    up.kill();
    await new Promise((r) => br.once('exit', r));
    return;
  }

  const si = await sequential(targets.intercept, 2000);
  out(`            intercepted (HTTPS_PROXY + run-CA TLS) p50 ${pct(si, 50).toFixed(3)} ms p99 ${pct(si, 99).toFixed(3)} ms, added p50 ${(pct(si, 50) - p50d).toFixed(3)} ms (passthrough adds ${addB.toFixed(3)})`);
  const tb = await concurrent(targets.broker, N, 32);
  const ti = await concurrent(targets.intercept, N, 32);
  out(`c32         intercepted ${ti.toFixed(0)} req/s | ${(ti / tb).toFixed(2)} of passthrough measured just before`);
  await viaProxy.close();

  const stream = async (t: T, p: string, size = BIG): Promise<number> => {
    const s = performance.now();
    const r = await t.pool.request({ method: 'GET', path: p, headers: t.headers });
    let n = 0;
    for await (const c of r.body) n += (c as Buffer).length;
    if (n !== size) throw new Error(`stream got ${n} bytes`);
    return BIG / 1024 / 1024 / ((performance.now() - s) / 1000);
  };
  await viaBare.close();
  bare.send({ type: 'exit' });
  // warm-up: the heap's young generation grows to its working size once; measure after that
  await stream(targets.broker, '/v/bench/warm', 64 * 1024 * 1024);
  // three interleaved pairs (one 512 MiB run each is at the mercy of whatever else the machine does)
  const mds: number[] = [];
  const mbs: number[] = [];
  const growths: number[] = [];
  for (let i = 0; i < 3; i++) {
    mds.push(await stream(targets.direct, '/big'));
    const base = (await ask(br, { type: 'rss-start' }, 'rss-start')).base as number;
    mbs.push(await stream(targets.broker, '/v/bench/big'));
    const peak = (await ask(br, { type: 'rss-stop' }, 'rss-stop')).peak as number;
    growths.push(peak - base);
  }
  const md = median(mds);
  const mb = median(mbs);
  out(`512 MiB     direct ${md.toFixed(0)} MiB/s | broker ${mb.toFixed(0)} MiB/s | ratio ${median(perRound(mbs, mds, (x, y) => x / y)).toFixed(2)} (target ≥ 0.55; medians of 3 interleaved pairs)`);
  const mib = (b: number): string => (b / 1024 / 1024).toFixed(1);
  out(`broker RSS  growth while streaming ${mib(Math.max(...growths))} MiB, the largest of the 3 (median ${mib(median(growths))}; target ≤ 32)`);

  await directPool.close();
  await viaBroker.close();
  br.send({ type: 'exit' });
  up.kill();
  await new Promise((r) => br.once('exit', r));
}

const childArg = process.argv.find((a) => a.startsWith('--bench-child='));
if (childArg && process.argv[1] && path.resolve(process.argv[1]) === HERE) {
  const kind = childArg.split('=')[1];
  if (kind === 'upstream') void upstreamChild();
  else if (kind === 'broker') void brokerChild(Number(process.argv[process.argv.indexOf(childArg) + 1]));
  else if (kind === 'bare') void bareChild(Number(process.argv[process.argv.indexOf(childArg) + 1]));
}
