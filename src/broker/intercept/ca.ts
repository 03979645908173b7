/**
 * The per-run certificate authority for `aivault exec --intercept` (SPEC §10).
 *
 * - Generated in memory at launch: ECDSA P-256 via WebCrypto, the CA private key created
 *   non-extractable, so no code path can serialise it (it never reaches a file, a log or the child).
 * - Valid from a minute ago (clock skew) until `notAfter` (the run plus at most a day).
 * - Name-constrained (critical): permitted DNS subtrees = the granted hosts only; every IPv4 and IPv6
 *   address excluded. A leaf this CA signed for any other name fails verification in clients that
 *   check name constraints (OpenSSL, Go, NSS, BoringSSL, Node).
 * - Leaves: one per host, minted on first use and cached for the run; all share one P-256 key made
 *   at the first leaf. `leafFor` refuses any host outside the granted list (no leaf is ever minted
 *   for it).
 */
import { webcrypto, randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';

type Lib = typeof import('./x509-lib.js');
type CryptoKeyPair = import('node:crypto').webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const SKEW_MS = 60_000;
export const MAX_CA_VALIDITY_MS = 24 * 3600_000;

let libPromise: Promise<Lib> | undefined;
function loadLib(): Promise<Lib> {
  libPromise ??= import('./x509-lib.js').then((m) => {
    const lib = ((m as Lib & { default?: Lib }).x509 ? m : (m as unknown as { default: Lib }).default) as Lib;
    lib.x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.x509.cryptoProvider.set>[0]);
    return lib;
  });
  return libPromise;
}

export interface RunCa {
  /** PEM of the CA certificate (public). */
  readonly certPem: string;
  /** Hosts the CA may sign for (lower-case, concrete). */
  readonly hosts: readonly string[];
  readonly notAfter: Date;
  /** TLS context with the leaf for `host`; undefined when `host` is not granted (nothing minted). */
  contextFor(host: string): Promise<SecureContext | undefined>;
  /** Hosts a leaf was minted for so far (tests, audit). */
  mintedHosts(): string[];
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

export async function createRunCa(opts: { hosts: readonly string[]; validityMs?: number; now?: Date }): Promise<RunCa> {
  const { x509, AsnConvert, GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } = await loadLib();
  const hosts = [...new Set(opts.hosts.map((h) => h.toLowerCase()))];
  if (hosts.length === 0) throw new Error('a run CA needs at least one host');
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - SKEW_MS);
  const notAfter = new Date(now.getTime() + Math.min(opts.validityMs ?? MAX_CA_VALIDITY_MS, MAX_CA_VALIDITY_MS));
  const caKeys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as CryptoKeyPair;

  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees(hosts.map((h) => new GeneralSubtree({ base: new GeneralName({ dNSName: h }) }))),
    excludedSubtrees: new GeneralSubtrees([
      new GeneralSubtree({ base: new GeneralName({ iPAddress: '0.0.0.0/0' }) }),
      new GeneralSubtree({ base: new GeneralName({ iPAddress: '::/0' }) }),
    ]),
  });
  const runTag = randomBytes(4).toString('hex');
  const caName = `CN=aivault run CA ${runTag}, O=aivault (this run only)`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints)),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const certPem = ca.toString('pem');

  let leafKeys: Promise<{ pair: CryptoKeyPair; pem: string }> | undefined;
  const leafKey = () =>
    (leafKeys ??= (async () => {
      const pair = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey));
      const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
      return { pair, pem };
    })());
  const leaves = new Map<string, Promise<SecureContext>>();
  const tlsMod = import('node:tls');

  const mint = async (host: string): Promise<SecureContext> => {
    const { pair, pem } = await leafKey();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: pair.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const tls = await tlsMod;
    return tls.createSecureContext({ cert: leaf.toString('pem').trimEnd() + '\n' + certPem, key: pem, minVersion: 'TLSv1.2' });
  };

  return {
    certPem,
    hosts,
    notAfter,
    contextFor(host) {
      const h = host.toLowerCase();
      if (!hosts.includes(h)) return Promise.resolve(undefined);
      let p = leaves.get(h);
      if (!p) {
        p = mint(h);
        leaves.set(h, p);
        p.catch(() => leaves.delete(h));
      }
      return p;
    },
    mintedHosts: () => [...leaves.keys()],
  };
}
