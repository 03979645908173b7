import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';

// `npm run demo` is the README's first command: it must work offline and show every attack blocked.
test('aivault demo: completions through the SDK, every attack blocked, key never shown', async () => {
  const r = await runCli(['demo'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /chat completion: Hello from the local mock/);
  assert.match(r.stdout, /streamed completion \(\d+ events\)/);
  const attacks = r.stdout.split('\n').filter((l) => l.includes('attack:'));
  assert.equal(attacks.length, 6);
  for (const line of attacks) assert.match(line, /-> blocked \((401|403|400) [a-z_]+\)/, line);
  assert.match(r.stdout, /path_traversal/);
  assert.match(r.stdout, /never appeared in the skill output or the audit log/);
  assert.doesNotMatch(r.stdout + r.stderr, /sk-demo-[0-9a-f]{48}/);
  assert.match(r.stdout, /run\.ended/);
  // the launcher's lazy loads (undici on the first request, node:tls) print no loader warnings
  assert.doesNotMatch(r.stderr, /Warning/);
});
