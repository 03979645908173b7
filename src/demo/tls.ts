import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';

export interface DemoTls {
  caCertPath: string;
  cert: string;
  key: string;
}

/**
 * Makes a throwaway CA and a leaf certificate for `hosts` with the system `openssl`, valid for one
 * day, in `dir`. Only the demo uses it: the CA is trusted by the demo's own broker through
 * AIVAULT_DEV_CA_CERT_PATH (SPEC §8), never by the system.
 */
export function makeThrowawayTls(dir: string, hosts: string[]): DemoTls {
  const p = (f: string) => path.join(dir, f);
  const run = (args: string[]) => {
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'openssl is not installed' : 'openssl failed';
      throw new AivaultError('exec_setup', `demo: cannot make a throwaway certificate (${why})`);
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=aivault demo throwaway CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${hosts[0]}`]);
  fs.writeFileSync(p('leaf.ext'), [
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1', '-extfile', 'leaf.ext']);
  return { caCertPath: p('ca.pem'), cert: fs.readFileSync(p('leaf.pem'), 'utf8'), key: fs.readFileSync(p('leaf.key'), 'utf8') };
}
