/**
 * `aivault invoke CAP [--method M] [--path P] [--header 'k: v']... [--body S | --body-file F] [--credential ID]`
 * One request through the same broker code `exec` uses: start the broker in-process, mint a token
 * for CAP alone, send the request through the envelope endpoint, stream the body to stdout as it
 * arrives. Status line on stderr; exit 0 on 2xx, 1 otherwise. Broker refusals print one line.
 */
import fs from 'node:fs';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parse, usage } from '../args.js';
import { AivaultError } from '../../errors/aivault-error.js';
import { loadRegistry } from '../../registry/load.js';
import { openVault } from '../../vault/open.js';
import { openCatalog } from '../../vault/catalog.js';
import { auditDirFromEnv, diskLogsDisabled, openAuditLog } from '../../audit/log.js';
import { startBroker } from '../../broker/server.js';
import { didYouMean } from '../../registry/suggest.js';
import { refuseInsideRun } from '../../exec/nested.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      method: { type: 'string', short: 'X' },
      path: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      body: { type: 'string' },
      'body-file': { type: 'string' },
      credential: { type: 'string' },
    },
    true,
  );
  if (positionals.length !== 1) throw usage('usage: aivault invoke CAP [--method M] [--path P] [--header "k: v"]... [--body S | --body-file F] [--credential ID]');
  const capId = positionals[0]!;
  if (values.body !== undefined && values['body-file'] !== undefined) throw usage('give either --body or --body-file, not both');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    const name = colon > 0 ? h.slice(0, colon).trim().toLowerCase() : '';
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw usage(`--header must look like 'name: value'`);
    const value = h.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body: Buffer | undefined;
  if (values.body !== undefined) body = Buffer.from(values.body, 'utf8');
  else if (values['body-file'] !== undefined) {
    const f = values['body-file'];
    try {
      body = f === '-' ? fs.readFileSync(0) : fs.readFileSync(f);
    } catch (e) {
      throw new AivaultError('usage', `cannot read --body-file ${f} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  refuseInsideRun(process.env, 'invoke');
  const registry = loadRegistry();
  const audit = openAuditLog({ dir: auditDirFromEnv(), disabled: diskLogsDisabled() });
  const vault = await openVault({ registry, audit });
  const catalog = await openCatalog({ vault, registry });
  const cap = catalog.getCapability(capId);
  if (!cap) {
    const own = catalog.capabilitiesOf(capId.split('/')[0] ?? '').map((c) => c.id);
    const known = registry.capabilities.map((c) => c.id);
    throw new AivaultError('capability_not_found', `unknown capability '${capId}'${didYouMean(capId, [...known, ...own])} (see aivault capability list)`);
  }
  // several choices: ask instead of picking one silently
  if (values.method === undefined && cap.methods.length > 1) throw usage(`${cap.id} allows ${cap.methods.join(', ')}: give --method (one of them)`);
  if (values.path === undefined && cap.pathPrefixes.length > 1) throw usage(`${cap.id} covers ${cap.pathPrefixes.join(', ')}: give --path (under one of them)`);
  const method = (values.method ?? cap.methods[0] ?? 'GET').toUpperCase();
  const path = values.path ?? cap.pathPrefixes[0] ?? '/';

  const runId = randomUUID();
  const broker = await startBroker({ catalog, audit, env: process.env, runId });
  const started = Date.now();
  audit.append({ event: 'run.started', runId, command: 'invoke', capabilities: [cap.id] });
  let exitCode = 1;
  try {
    const token = broker.mintToken({ runId, capabilities: [cap.id], ...(values.credential !== undefined ? { credential: values.credential } : {}) });
    const envelope = JSON.stringify({
      capability: cap.id,
      ...(values.credential !== undefined ? { credential: values.credential } : {}),
      request: { method, path, headers, ...(body !== undefined ? { bodyBase64: body.toString('base64') } : {}) },
    });
    exitCode = await send(broker.port, token, envelope);
  } finally {
    broker.revokeRun(runId);
    await broker.close();
    const s = broker.runStats(runId);
    audit.append({ event: 'run.ended', runId, exitCode, signal: null, durationMs: Date.now() - started, requests: s.requests, denied: s.denied });
    try {
      await audit.flush();
    } catch (e) {
      process.stderr.write(`aivault: warning: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    }
  }
  return exitCode;
}

function send(port: number, token: string, envelope: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/aivault/proxy',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(envelope) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const brokerError = res.headers['x-aivault-error'];
        if (brokerError !== undefined) {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => {
            let message = String(brokerError);
            try {
              const j = JSON.parse(Buffer.concat(parts).toString('utf8')) as { error?: { code?: string; message?: string } };
              if (j.error?.message) message = `${j.error.code ?? brokerError}: ${j.error.message}`;
            } catch {
              // keep the code alone
            }
            process.stderr.write(`aivault: ${message}\n`);
            resolve(1);
          });
          return;
        }
        process.stderr.write(`HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}\n`);
        res.pipe(process.stdout, { end: false });
        // On a terminal, end with a newline so the prompt does not stick to a JSON body; a pipe or
        // file gets the body byte for byte.
        let last = 0x0a;
        res.on('data', (b: Buffer) => b.length > 0 && (last = b[b.length - 1]!));
        res.on('end', () => {
          if (last !== 0x0a && process.stdout.isTTY) process.stdout.write('\n');
          resolve(status >= 200 && status < 300 ? 0 : 1);
        });
        res.on('close', () => {
          if (res.complete) return;
          process.stderr.write('aivault: the response was cut off\n');
          resolve(1);
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', (e) => reject(new AivaultError('invalid_request', `cannot reach the in-process broker (${(e as NodeJS.ErrnoException).code ?? 'error'})`)));
    req.end(envelope);
  });
}
