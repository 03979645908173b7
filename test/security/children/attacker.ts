/**
 * A malicious child for `aivault exec`: it runs every attempt of a plan (JSON file, argv[2]) and
 * dumps EVERYTHING it saw (its env, /proc/self/environ, every raw response byte, every CLI output)
 * to argv[3], so the test can scan all of it for the sentinel secret.
 *
 * Requests are written as raw bytes over net.connect, so no HTTP client normalises anything.
 * Placeholders in request text: {{TOKEN}} (the run token from the env), {{PORT}} (broker port),
 * {{HOSTPORT}} (127.0.0.1:port), {{B64TOKEN}} (base64 of the token).
 */
import fs from 'node:fs';
import net from 'node:net';
import { spawnSync } from 'node:child_process';

interface Attempt {
  name: string;
  /** raw request bytes (placeholders expanded); used as is */
  raw?: string;
  /** convenience: request line parts + headers; Host and connection: close are added */
  method?: string;
  target?: string;
  headers?: Array<[string, string]>;
  body?: string;
  /** do not add `Authorization: Bearer {{TOKEN}}` */
  noAuth?: boolean;
  /** do not add a Host header */
  noHost?: boolean;
  /** connect from this local address */
  localAddress?: string;
  /** connect to this address instead of 127.0.0.1 */
  connectHost?: string;
}

interface Plan {
  attempts?: Attempt[];
  /** CLI invocations: args after bin/aivault.js; env added to the child's own env */
  cli?: Array<{ bin: string; args: string[]; env?: Record<string, string>; dropEnv?: string[] }>;
  /** write the token and base URL here, then wait for `waitFor` to exist before continuing */
  tokenFile?: string;
  waitFor?: string;
  /** read a token from this file and use it instead of the own one */
  foreignTokenFile?: string;
  /** read other files (e.g. the launcher's /proc/<ppid>/environ) */
  readFiles?: string[];
}

interface Seen {
  env: Record<string, string | undefined>;
  environ: string | null;
  files: Record<string, string | null>;
  results: Array<{ name: string; status: number; headers: string; body: string; raw: string; error?: string }>;
  cli: Array<{ args: string[]; code: number | null; stdout: string; stderr: string }>;
}

const [planFile, outFile] = process.argv.slice(2) as [string, string];
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan;
const base = new URL(process.env.AIVAULT_BASE_URL ?? 'http://127.0.0.1:1');
const port = Number(base.port);
let token = process.env.AIVAULT_TOKEN ?? '';

const seen: Seen = { env: { ...process.env }, environ: null, files: {}, results: [], cli: [] };
try {
  seen.environ = fs.readFileSync('/proc/self/environ', 'latin1');
} catch {
  /* not linux */
}
const save = (): void => fs.writeFileSync(outFile, JSON.stringify(seen, null, 1));

function expand(s: string): string {
  return s
    .replaceAll('{{TOKEN}}', token)
    .replaceAll('{{B64TOKEN}}', Buffer.from(token).toString('base64'))
    .replaceAll('{{HOSTPORT}}', `127.0.0.1:${port}`)
    .replaceAll('{{PORT}}', String(port));
}

function build(a: Attempt): string {
  if (a.raw !== undefined) return expand(a.raw);
  const lines = [`${a.method ?? 'GET'} ${a.target ?? '/'} HTTP/1.1`];
  if (!a.noHost) lines.push(`Host: 127.0.0.1:${port}`);
  if (!a.noAuth) lines.push('Authorization: Bearer {{TOKEN}}');
  for (const [k, v] of a.headers ?? []) lines.push(`${k}: ${v}`);
  if (a.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(expand(a.body))}`);
  lines.push('Connection: close');
  return expand(lines.join('\r\n') + '\r\n\r\n' + (a.body ?? ''));
}

/** Parse a raw HTTP/1.1 response; de-chunk the body. */
function parse(raw: Buffer): { status: number; headers: string; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: raw.toString('latin1'), body: '' };
  const head = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  let body = raw.subarray(end + 4);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts: Buffer[] = [];
    let i = 0;
    while (i < body.length) {
      const nl = body.indexOf('\r\n', i);
      if (nl < 0) break;
      const n = parseInt(body.subarray(i, nl).toString('latin1'), 16);
      if (!Number.isFinite(n) || n === 0) break;
      parts.push(body.subarray(nl + 2, nl + 2 + n));
      i = nl + 2 + n + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers: head, body: body.toString('latin1') };
}

function send(a: Attempt): Promise<Seen['results'][number]> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const s = net.connect({ host: a.connectHost ?? '127.0.0.1', port, ...(a.localAddress ? { localAddress: a.localAddress } : {}) });
    const timer = setTimeout(() => s.destroy(new Error('timeout')), 8000);
    s.on('connect', () => s.write(build(a)));
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const p = parse(raw);
      resolve({ name: a.name, ...p, raw: raw.toString('latin1'), ...(error ? { error } : {}) });
    });
  });
}

async function main(): Promise<void> {
  for (const f of plan.readFiles ?? []) {
    const path = f.replaceAll('{{PPID}}', String(process.ppid));
    try {
      seen.files[path] = fs.readFileSync(path, 'latin1');
    } catch (e) {
      seen.files[path] = null;
      void e;
    }
  }
  if (plan.tokenFile) {
    fs.writeFileSync(plan.tokenFile + '.tmp', JSON.stringify({ token, baseUrl: base.href, pid: process.pid }));
    fs.renameSync(plan.tokenFile + '.tmp', plan.tokenFile);
  }
  if (plan.waitFor) {
    while (!fs.existsSync(plan.waitFor)) await new Promise((r) => setTimeout(r, 25));
  }
  if (plan.foreignTokenFile) token = (JSON.parse(fs.readFileSync(plan.foreignTokenFile, 'utf8')) as { token: string }).token;
  for (const a of plan.attempts ?? []) {
    seen.results.push(await send(a));
    save();
  }
  for (const c of plan.cli ?? []) {
    const env: Record<string, string | undefined> = { ...process.env, ...c.env };
    for (const k of c.dropEnv ?? []) delete env[k];
    const r = spawnSync(process.execPath, [c.bin, ...c.args], { env, encoding: 'latin1', timeout: 20_000 });
    seen.cli.push({ args: c.args, code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
    save();
  }
  save();
}

main().catch((e: unknown) => {
  fs.writeFileSync(outFile + '.error', String(e));
  process.exit(3);
});
