/**
 * SPEC §7a end to end (issue 11 item 3): a Telegram-style client inside `aivault exec` puts the run
 * token where the bot key goes (`/v/telegram/bot<token>/sendMessage`); the broker consumes it and
 * the upstream receives `/bot<real secret>/sendMessage`. Afterwards no audit line and no output
 * holds the run token, the secret or a query string, and every request line carries the run's id,
 * also for requests refused before a token was found.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { fx, launch, NODE, vaultWith } from './launch.js';
import { registerSensitive } from '../helpers/suite-registry.js';

const BOT_SECRET = '987654:SENTINEL-telegram-e2e-Zx9';
let fake: FakeProvider;
let vault = '';
before(async () => {
  fake = await startFakeProvider();
  vault = await vaultWith({ TELEGRAM_BOT_TOKEN: BOT_SECRET });
});
after(async () => {
  await fake.close();
  fs.rmSync(vault, { recursive: true, force: true });
});

interface Res { status: number; code: string | null; body: string }

test('telegram-style SDK calls with the token in the path work; no token, secret or query string in any log line', async () => {
  const r = await launch(['--allow', 'telegram/send-message', '--', NODE, fx('telegram-style.mjs')], { env: { AIVAULT_DIR: vault, ...fake.devEnv() } }).done;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.toString()) as { token: string; send: Res; sendQuery: Res; getMe: Res; badToken: Res; noToken: Res; tokenElsewhere: Res };
  const token = out.token;
  registerSensitive(token, BOT_SECRET); // the suite-wide audit scan checks every archived line too
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);

  // the path token authenticates; the upstream gets the real key in its place
  assert.equal(out.send.status, 200, out.send.body);
  assert.equal(out.sendQuery.status, 200, out.sendQuery.body);
  const sends = fake.requests.filter((q) => q.path.endsWith('/sendMessage'));
  assert.equal(sends.length, 2);
  for (const q of sends) {
    assert.equal(q.path, `/bot${BOT_SECRET}/sendMessage`);
    assert.equal(q.method, 'POST');
    assert.ok(!JSON.stringify(q).includes(token), 'the run token never travels upstream');
  }
  assert.equal(sends[1]!.query, 'chat_id=42&text=secret-query-text');
  // refusals
  assert.equal(out.getMe.code, 'capability_not_granted', out.getMe.body);
  assert.equal(out.badToken.code, 'token_invalid', out.badToken.body);
  assert.equal(out.noToken.code, 'token_missing', out.noToken.body);
  assert.equal(out.tokenElsewhere.code, 'token_missing', out.tokenElsewhere.body);
  for (const k of ["getMe", "badToken", "noToken", "tokenElsewhere"] as const) assert.ok(!out[k].body.includes(token), `${k} message echoes the token`);
  assert.equal(fake.requests.length, 2, 'refused requests never reached the upstream');

  // the audit log: every line of the whole vault dir scanned
  const auditDir = path.join(vault, 'audit');
  const text = fs.readdirSync(auditDir).map((f) => fs.readFileSync(path.join(auditDir, f), 'utf8')).join('');
  for (const needle of [token, BOT_SECRET, encodeURIComponent(BOT_SECRET), 'secret-query-text', 'chat_id', 'B'.repeat(43)])
    assert.ok(!text.includes(needle), `audit holds ${needle === token ? 'the run token' : needle}`);
  assert.ok(!r.stderr.includes(token) && !r.stderr.includes(BOT_SECRET));
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = lines.filter((l) => l.event === 'run.started').pop()!;
  const reqs = lines.filter((l) => l.event === 'request');
  assert.equal(reqs.length, 6);
  for (const l of reqs) assert.equal(l.runId, started.runId, `request line without the run id: ${JSON.stringify(l)}`);
  const paths = reqs.map((l) => l.path);
  assert.deepEqual(paths.slice(0, 3), ['/sendMessage', '/sendMessage', '/getMe']);
  assert.equal(paths[3], '/bot[REDACTED]/sendMessage');
  assert.equal(paths[4], '/sendMessage');
  assert.equal(paths[5], '/x/[token]/sendMessage');
  const ended = lines.filter((l) => l.event === 'run.ended').pop()!;
  assert.equal(ended.requests, 6);
  assert.equal(ended.denied, 4);
});
