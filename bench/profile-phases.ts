/**
 * Per-phase CPU of brokered requests, from a .cpuprofile (bench/cpu-profile.ts writes them; `BENCH_PROF=1
 * node dist/bench/run.js broker` profiles the broker and the minimal proxy side by side).
 * usage: node dist/bench/profile-phases.js FILE.cpuprofile REQUESTS
 *
 * Each sample is charged to one row: the deepest aivault frame on its stack names the phase (a few
 * shared helpers defer to their caller's phase), except that work in undici or in node's own
 * http/net/tls/stream code below that frame is charged to those (what any Node proxy pays, the
 * minimal proxy included). Samples with no aivault frame go to the same undici / node rows.
 * Times are µs per request: the row's sampled time divided by the requests served in the window.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Shared helpers: charged to the nearest caller with a phase of its own (else to this default). */
const INHERIT = new Set(['classifyAddress', 'parseIPv4', 'parseIPv6', 'classifyIPv4', 'classifyIPv6', 'inV4', 'parseQuery', 'paramKey', 'decodeComponent', 'values', 'isValidHeaderName', 'isValidHeaderValue', 'connectionListed', 'headerCandidates', 'headerValues', 'tokenForms', 'normalizePath', 'normalizeSegment', 'isDotSegment', 'validateQuery', 'hasSlashLookalike', 'redactString', 'deny']);

/** Phase of one aivault frame, by file and function name (undefined: not ours). */
function phaseOf(file: string, fn: string): string | undefined {
  const f = file.replace(/\.js$/, '');
  switch (f) {
    case 'tokens':
    case 'token-extract':
      return fn === 'consumeTokenHeaders' ? 'token consume (headers, query)' : 'token lookup (find, check)';
    case 'request-checks':
      return fn === 'findTokenFor' ? 'token lookup (find, check)' : fn === 'auditPath' ? 'route: name, slots, grants' : 'method override';
    case 'method-override':
      return 'method override';
    case 'query':
      if (fn === 'consumeTokenParams' || fn === 'dropParamsCarrying' || fn === 'filterPieces') return 'token consume (headers, query)';
      if (fn === 'checkCallerQuery') return 'caller auth headers/params refused';
      return 'query parsing';
    case 'server':
      if (fn === 'localPeer' || fn === 'classifyAddress') return 'peer + Host checks';
      if (fn === 'audit' || fn === 'line' || fn === 'cut' || fn === 'scrub') return 'audit line build (+ scrub)';
      return 'entry: handle, serveRequest, plan';
    case 'scrub':
      return 'audit line build (+ scrub)';
    case 'address':
      return 'peer + Host checks';
    case 'pipeline':
      return fn === 'approveRoute' ? 'pipeline glue (approveRoute, finish, body)' : 'route: name, slots, grants';
    case 'grants':
    case 'path-slot':
    case 'slots':
      return 'route: name, slots, grants';
    case 'credential-resolve':
      return fn === 'resolveCredential' ? 'credential resolve + secret cache' : 'route: name, slots, grants';
    case 'injections':
      return 'credential resolve + secret cache';
    case 'path':
    case 'capability':
      return 'path normalise + capability inference';
    case 'headers':
      if (fn === 'checkCallerHeaders') return 'caller auth headers/params refused';
      if (fn === 'sanitizeResponseHeaders') return 'response headers: sanitise + redact';
      return 'forwardable request headers';
    case 'host':
      return 'host policy + upstream resolve';
    case 'upstream':
      return fn === 'resolve' ? 'host policy + upstream resolve' : 'forward: setup, dispatch, completion';
    case 'finish-approval':
      return fn === 'redactorWith' ? 'redactor setup' : 'pipeline glue (approveRoute, finish, body)';
    case 'request-body':
      return 'pipeline glue (approveRoute, finish, body)';
    case 'redactor':
      if (fn === 'redactString') return 'response headers: sanitise + redact';
      if (fn === 'push' || fn === 'end' || fn === 'replaceAll' || fn === 'heldFrom') return 'response body: redact + write';
      return 'redactor setup';
    case 'inject':
    case 'apply':
    case 'template':
    case 'secret-values':
      return 'auth apply';
    case 'forward':
      if (fn === 'onResponseStart') return 'response headers: sanitise + redact';
      if (['onResponseData', 'feed', 'emit', 'uncork', 'end', 'onResponseEnd', 'makeDecoder'].includes(fn)) return 'response body: redact + write';
      return 'forward: setup, dispatch, completion';
    case 'json-filter':
      return 'response body: redact + write';
    case 'errors':
      return 'errors';
    default:
      return 'other aivault code';
  }
}

const UNDICI = 'undici (upstream client JS + llhttp wasm)';
const HTTP = 'node:http server (parse, respond)';
const SOCK = 'sockets + TLS (both sides: read, write, encrypt)';
const EVENTS = 'node events, timers, promises';

/** Which shared layer a frame belongs to (undefined: neither ours nor a shared layer). */
function layerOf(url: string): string | undefined {
  if (url.includes('/undici/')) return UNDICI;
  if (/^node:_http/.test(url)) return HTTP;
  if (/^node:(net|_tls|tls|internal\/streams|internal\/stream_base|internal\/js_stream|stream|internal\/tls)/.test(url)) return SOCK;
  if (/^node:(events|internal\/timers|internal\/process\/task_queues|timers)/.test(url)) return EVENTS;
  return undefined;
}

const isOurs = (url: string): boolean => url.includes('/dist/src/') || url.includes('/dist/bench/');

export interface PhaseRow {
  phase: string;
  us: number;
}

/** Rows of µs per request, busiest first; GC and (program) are rows of their own, idle is left out. */
export function phases(p: CpuProfile, requests: number): { rows: PhaseRow[]; busyUs: number; aivaultUs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string | undefined>();
  const classify = (leaf: number): string | undefined => {
    if (cache.has(leaf)) return cache.get(leaf);
    const stack: CallFrame[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
    const top = stack[0]!.functionName;
    let out: string | undefined;
    if (top === '(idle)') out = undefined;
    else if (top === '(garbage collector)') out = 'GC';
    else if (top === '(program)') out = '(program: V8/native, unattributed)';
    else {
      // the innermost shared layer below the deepest frame of ours (or in a stack without ours)
      let i = stack.findIndex((f) => isOurs(f.url));
      let below: string | undefined;
      for (let j = 0; j < (i === -1 ? stack.length : i) && !below; j++) below = layerOf(stack[j]!.url);
      if (below) out = below;
      else if (i === -1) out = '(native, unattributed)';
      else {
        let ph: string | undefined;
        let fallback: string | undefined;
        for (; i < stack.length; i++) {
          const f = stack[i]!;
          if (!isOurs(f.url)) continue;
          if (f.url.includes('/dist/bench/')) {
            ph = 'bench proxy code';
            break;
          }
          const name = f.functionName || '(anon)';
          const phase = phaseOf(path.basename(f.url), name);
          if (INHERIT.has(name)) {
            fallback ??= phase;
            continue;
          }
          ph = phase;
          break;
        }
        out = ph ?? fallback ?? 'other aivault code';
      }
    }
    cache.set(leaf, out);
    return out;
  };
  const sums = new Map<string, number>();
  for (let k = 0; k < p.samples.length; k++) {
    const t = p.timeDeltas[k + 1] ?? 0;
    const ph = classify(p.samples[k]!);
    if (ph !== undefined) sums.set(ph, (sums.get(ph) ?? 0) + t);
  }
  const rows = [...sums].map(([phase, t]) => ({ phase, us: t / requests })).sort((a, b) => b.us - a.us);
  const busyUs = rows.reduce((s, r) => s + r.us, 0);
  const floor = new Set([UNDICI, HTTP, SOCK, EVENTS, 'GC', '(program: V8/native, unattributed)', '(native, unattributed)', 'bench proxy code']);
  const aivaultUs = rows.filter((r) => !floor.has(r.phase)).reduce((s, r) => s + r.us, 0);
  return { rows, busyUs, aivaultUs };
}

/** The table as text, one row per phase. */
export function phaseTable(title: string, p: CpuProfile, requests: number): string {
  const { rows, busyUs, aivaultUs } = phases(p, requests);
  const lines = [`${title}: ${requests} requests, ${busyUs.toFixed(1)} µs CPU per request sampled (${aivaultUs.toFixed(1)} µs in aivault's own code)`];
  for (const r of rows) lines.push(`  ${r.us.toFixed(1).padStart(7)} µs  ${((100 * r.us) / busyUs).toFixed(1).padStart(5)}%  ${r.phase}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, n] = process.argv.slice(2);
  if (!file || !n) {
    process.stderr.write('usage: node dist/bench/profile-phases.js FILE.cpuprofile REQUESTS\n');
    process.exit(2);
  }
  process.stdout.write(phaseTable(path.basename(file), JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(n)) + '\n');
}
