/**
 * TEST-ONLY TLS material (fixtures/tls, made by scripts/gen-test-certs.sh): a CA and one leaf
 * certificate whose SANs cover the provider hosts the tests impersonate on loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './cli.js';

export const TLS_DIR = path.join(FIXTURES, 'tls');
export const TEST_CA_PATH = path.join(TLS_DIR, 'ca.pem');

/** Hosts the fixture leaf certificate is valid for. */
export const TEST_HOSTS = [
  'api.openai.com',
  'api.anthropic.com',
  'generativelanguage.googleapis.com',
  'api.telegram.org',
  'api.github.com',
  'api.example-custom.test',
  'other.example-custom.test',
] as const;

export function testCa(): string {
  return fs.readFileSync(TEST_CA_PATH, 'utf8');
}

export function leafCert(): { cert: string; key: string } {
  return { cert: fs.readFileSync(path.join(TLS_DIR, 'leaf.pem'), 'utf8'), key: fs.readFileSync(path.join(TLS_DIR, 'leaf.key'), 'utf8') };
}

/** A self-signed certificate for api.openai.com that the test CA did NOT sign. */
export function untrustedCert(): { cert: string; key: string } {
  return { cert: fs.readFileSync(path.join(TLS_DIR, 'untrusted.pem'), 'utf8'), key: fs.readFileSync(path.join(TLS_DIR, 'untrusted.key'), 'utf8') };
}
