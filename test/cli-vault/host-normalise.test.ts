/**
 * Issue 11 item 15: hosts typed at `capability create` / `credential create` are normalised
 * (lower-case, IDNA to punycode) and matched normalised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { useCliLab } from '../helpers/cli-lab.js';
import { normalizeHostInput } from '../../src/registry/host-input.js';

const CASES: Array<[string, string]> = [
  ['XN--BCHER-KVA.EXAMPLE', 'xn--bcher-kva.example'],
  ['Bücher.Example', 'xn--bcher-kva.example'],
  ['BÜCHER.example', 'xn--bcher-kva.example'],
  ['*.Bücher.Example', '*.xn--bcher-kva.example'],
  ['  API.OpenAI.com ', 'api.openai.com'],
  ['api.openai.com', 'api.openai.com'],
  ['аpi.openai.com', 'xn--pi-6kc.openai.com'], // Cyrillic 'а' is another host, never api.openai.com
  ['api.openai.com:443', 'api.openai.com:443'], // left for the validator to refuse
  ['https://api.openai.com', 'https://api.openai.com'],
  ['exa mple.com', 'exa mple.com'],
];
for (const [input, want] of CASES) {
  test(`normalizeHostInput(${JSON.stringify(input)})`, () => assert.equal(normalizeHostInput(input), want));
}

const lab = useCliLab();

test('capability create --host XN--BCHER-KVA.EXAMPLE and Bücher.Example are stored as punycode', async () => {
  let r = await runCli(['capability', 'create', 'books/list', '--provider', 'books', '--host', 'XN--BCHER-KVA.EXAMPLE', '--method', 'GET', '--path-prefix', '/list', '--json'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).hosts, ['xn--bcher-kva.example']);
  r = await runCli(['credential', 'create', 'books', '--provider', 'books', '--secret', 'BOOKS_KEY', '--host', 'Bücher.Example', '--auth', 'header', '--header-name', 'x-key', '--value-template', '{{secret}}', '--json'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).hosts, ['xn--bcher-kva.example']);
  r = await runCli(['capability', 'create', 'books/bad', '--provider', 'books', '--host', 'Bücher.Example:8443', '--method', 'GET', '--path-prefix', '/x'], { env: lab.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /port/);
});

test('mixed-case hosts on both sides match: a request reaches the upstream', async () => {
  let r = await runCli(['secrets', 'create', '--name', 'ACME_KEY', '--value', 'acme-SENTINEL-host-case'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['credential', 'create', 'acme', '--provider', 'acme', '--secret', 'ACME_KEY', '--host', 'API.Example-Custom.TEST', '--auth', 'header', '--header-name', 'x-acme-key', '--value-template', '{{secret}}'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['capability', 'create', 'acme/data', '--provider', 'acme', '--host', 'api.EXAMPLE-custom.test', '--method', 'GET', '--path-prefix', '/data'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  lab.provider.reset();
  r = await runCli(['invoke', 'acme/data'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lab.provider.requests.length, 1);
  assert.equal(lab.provider.requests[0]!.headers['x-acme-key'], 'acme-SENTINEL-host-case');
  assert.equal(lab.provider.requests[0]!.servername, 'api.example-custom.test');
});
