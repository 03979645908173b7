/**
 * Hosts typed by a user (`credential create --host`, `capability create --host`) are normalised
 * before validation (issue 11 item 15): DNS names are case-insensitive, so `XN--BCHER-KVA.EXAMPLE`
 * is `xn--bcher-kva.example`, and an internationalised name is stored in its IDNA ASCII (punycode)
 * form: `Bücher.example` is `xn--bcher-kva.example`. Surrounding whitespace is dropped; a leading
 * `*.` wildcard label is kept. Anything IDNA cannot convert is returned as typed, so the validator
 * refuses it with its usual message. Matching (src/policy/host.ts) compares these canonical forms
 * and never converts caller-supplied Unicode itself.
 */
import { domainToASCII } from 'node:url';

export function normalizeHostInput(host: string): string {
  const t = host.trim();
  const wild = t.startsWith('*.');
  const name = wild ? t.slice(2) : t;
  if (name === '' || /[\s/:@?#\\[\]]/.test(name)) return t; // ports, paths, IP literals: the validator says what is wrong
  const ascii = domainToASCII(name);
  if (ascii === '') return t;
  return (wild ? '*.' : '') + ascii.toLowerCase();
}
