/**
 * AWS's published Signature Version 4 test suite (fixtures/aws-sig-v4-test-suite, data files
 * copied verbatim: Apache-2.0, see LICENSE/NOTICE there). For every case: our canonical request,
 * string to sign and Authorization header equal AWS's expected .creq, .sts and .authz byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { sha256Hex, signV4 } from '../../src/auth/sigv4.js';

const SUITE = path.join(FIXTURES, 'aws-sig-v4-test-suite');
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function cases(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (!fs.statSync(p).isDirectory()) continue;
    if (fs.existsSync(path.join(p, `${name}.req`))) out.push(p);
    else out.push(...cases(p));
  }
  return out.sort();
}

/** Parse a .req file: request line, headers (an indented line continues the previous header as another value), blank line, body. */
function parseReq(text: string): { method: string; path: string; query: string; headers: Array<[string, string]>; body: string } {
  const lines = text.split('\n');
  const first = lines.shift()!;
  const sp = first.indexOf(' ');
  const method = first.slice(0, sp);
  const target = first.slice(sp + 1, first.lastIndexOf(' HTTP/'));
  const q = target.indexOf('?');
  const headers: Array<[string, string]> = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') break;
    if (/^\s/.test(l)) headers.push([headers[headers.length - 1]![0], l.trim()]);
    else {
      const c = l.indexOf(':');
      headers.push([l.slice(0, c), l.slice(c + 1)]);
    }
  }
  return { method, path: q === -1 ? target : target.slice(0, q), query: q === -1 ? '' : target.slice(q + 1), headers, body: lines.slice(i + 1).join('\n') };
}

const all = cases(SUITE);
const KNOWN_ERRATA = ['post-x-www-form-urlencoded', 'post-x-www-form-urlencoded-parameters'];

test('the suite is present (at least 25 cases)', () => {
  assert.ok(all.length >= 25, `only ${all.length} cases found`);
});

for (const dir of all) {
  const name = path.basename(dir);
  test(`aws-sig-v4-test-suite: ${name}`, () => {
    const read = (ext: string) => fs.readFileSync(path.join(dir, `${name}.${ext}`), 'utf8');
    const req = parseReq(read('req'));
    const date = req.headers.find(([k]) => k.toLowerCase() === 'x-amz-date')![1];
    const r = signV4(
      { method: req.method, path: req.path, query: req.query, headers: req.headers, payloadHash: sha256Hex(req.body) },
      { region: 'us-east-1', service: 'service', amzDate: date },
      CREDS,
    );
    const creq = read('creq');
    assert.equal(r.canonicalRequest, creq, 'canonical request');
    if (KNOWN_ERRATA.includes(name)) {
      // The published .sts/.authz of these two cases were not made from their own .creq (AWS's
      // data is inconsistent: the hash line of .sts is not SHA-256 of .creq). Prove that, and
      // that our string to sign is the one the published canonical request implies.
      assert.notEqual(read('sts').split('\n').pop(), sha256Hex(creq), 'the erratum is still there');
      assert.equal(r.stringToSign.split('\n').pop(), sha256Hex(creq));
      return;
    }
    assert.equal(r.stringToSign, read('sts'), 'string to sign');
    assert.equal(r.authorization, read('authz'), 'authorization');
  });
}
