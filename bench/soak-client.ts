/**
 * The soak's workload, run as the child of a real `aivault exec` launcher (bench/audit.ts):
 * mixed requests through the broker at a fixed concurrency, every answer checked.
 * usage: node soak-client.js STATE_DIR TOTAL WARMUP CONCURRENCY
 * Writes STATE_DIR/warm after WARMUP requests and waits for STATE_DIR/go; writes STATE_DIR/end
 * (JSON summary) after TOTAL and waits for STATE_DIR/exit. Ignores SIGUSR2 (heap snapshots of the
 * launcher are taken with --heapsnapshot-signal, and the launcher forwards the signal here).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [dir, totalArg, warmArg, concArg] = process.argv.slice(2) as [string, string, string, string];
const TOTAL = Number(totalArg);
const WARMUP = Number(warmArg);
const C = Number(concArg);
const base = new URL(process.env.AIVAULT_BASE_URL!);
const token = process.env.AIVAULT_TOKEN!;
process.on('SIGUSR2', () => undefined);

const agent = new http.Agent({ keepAlive: true, maxSockets: C });
const ALL_KINDS = ['models', 'models', 'models', 'chat', 'sse', 'denied-method', 'denied-cap', 'bad-token', 'abort-download', 'abort-upload'] as const;
type Kind = (typeof ALL_KINDS)[number];
/** optional 5th argument: a comma list of kinds (to look at one alone) */
const only = process.argv[6]?.split(',');
const KINDS: readonly Kind[] = only ? ALL_KINDS.filter((k) => only.includes(k)) : ALL_KINDS;
const counts: Record<string, number> = {};
const wrong: string[] = [];
let wrongCount = 0;

function note(kind: Kind, why: string): void {
  wrongCount++;
  if (wrong.length < 20) wrong.push(`${kind}: ${why}`);
}

function req(method: string, p: string, headers: Record<string, string | number>, useAgent = true): http.ClientRequest {
  return http.request({ host: base.hostname, port: base.port, method, path: p, headers, agent: useAgent ? agent : false });
}

function simple(kind: Kind, method: string, p: string, body: string | undefined, check: (status: number, h: http.IncomingHttpHeaders, text: string) => string | undefined, auth = `Bearer ${token}`): Promise<void> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { authorization: auth };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const r = req(method, p, headers);
    r.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => {
        const why = check(res.statusCode ?? 0, res.headers, Buffer.concat(parts).toString());
        if (why) note(kind, why);
        resolve();
      });
      res.on('error', () => (note(kind, 'response error'), resolve()));
    });
    r.on('error', (e) => (note(kind, `request error ${(e as NodeJS.ErrnoException).code}`), resolve()));
    r.end(body);
  });
}

const denial = (code: string, status: number) => (s: number, h: http.IncomingHttpHeaders) => (s === status && h['x-aivault-error'] === code ? undefined : `expected ${status} ${code}, got ${s} ${String(h['x-aivault-error'])}`);

function abortDownload(): Promise<void> {
  return new Promise((resolve) => {
    const r = req('GET', '/v/openai/v1/models/big', { authorization: `Bearer ${token}` }, false);
    r.on('response', (res) => {
      if (res.statusCode !== 200) note('abort-download', `status ${res.statusCode}`);
      res.once('data', () => {
        r.destroy();
        resolve();
      });
      res.on('error', () => undefined);
    });
    r.on('error', () => resolve());
    r.end();
  });
}

function abortUpload(): Promise<void> {
  return new Promise((resolve) => {
    const r = req('POST', '/v/openai/v1/chat/completions', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': 1024 * 1024 }, false);
    r.on('error', () => undefined);
    r.on('response', (res) => {
      note('abort-upload', `answered before the body ended: ${res.statusCode}`);
      res.resume();
    });
    r.write(Buffer.alloc(32 * 1024, 0x20), () => {
      setTimeout(() => {
        r.destroy();
        resolve();
      }, 2);
    });
  });
}

async function one(i: number): Promise<void> {
  const kind = KINDS[i % KINDS.length]!;
  counts[kind] = (counts[kind] ?? 0) + 1;
  switch (kind) {
    case 'models':
      return simple(kind, 'GET', '/v/openai/v1/models', undefined, (s, _h, t) => (s === 200 && t.includes('"object":"list"') ? undefined : `got ${s} ${t.slice(0, 60)}`));
    case 'chat':
      return simple(kind, 'POST', '/v/openai/v1/chat/completions', '{"model":"m","messages":[]}', (s, _h, t) => (s === 200 && t.includes('chat.completion') ? undefined : `got ${s}`));
    case 'sse':
      return simple(kind, 'POST', '/v/openai/v1/chat/completions', '{"model":"m","stream":true}', (s, h, t) =>
        s === 200 && String(h['content-type']).startsWith('text/event-stream') && t.split('data: ').length === 5 && t.endsWith('data: [DONE]\n\n') ? undefined : `bad stream ${s}`,
      );
    case 'denied-method':
      return simple(kind, 'DELETE', '/v/openai/v1/models', undefined, denial('method_not_allowed', 403));
    case 'denied-cap':
      return simple(kind, 'GET', '/v/openai/v1/files', undefined, denial('capability_not_granted', 403));
    case 'bad-token':
      return simple(kind, 'GET', '/v/openai/v1/models', undefined, denial('token_invalid', 401), `Bearer ${'A'.repeat(43)}`);
    case 'abort-download':
      return abortDownload();
    case 'abort-upload':
      return abortUpload();
  }
}

async function waitFile(name: string): Promise<void> {
  while (!fs.existsSync(path.join(dir, name))) await new Promise((r) => setTimeout(r, 20));
}

async function runPhase(from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < to) await one(next++);
    }),
  );
}

const t0 = performance.now();
await runPhase(0, WARMUP);
fs.writeFileSync(path.join(dir, 'warm'), '');
await waitFile('go');
const t1 = performance.now();
await runPhase(WARMUP, TOTAL);
const t2 = performance.now();
// the keep-alive sockets stay open at both measuring points, so the fd counts compare like for like
fs.writeFileSync(path.join(dir, 'end'), JSON.stringify({ sent: TOTAL, counts, wrong: wrongCount, examples: wrong, warmupMs: t1 - t0, soakMs: t2 - t1 }));
await waitFile('exit');
agent.destroy();
process.exit(0);
