/**
 * The X.509 library, in one module so it loads only when a run uses --intercept (it costs far more
 * to load than the rest of the launcher). @peculiar/x509 runs on Node's WebCrypto; its dependency
 * injection needs a Reflect metadata polyfill, imported first. The npm bundle builds this file as a
 * separate chunk (scripts/bundle.mjs) that `aivault exec` requires only on demand.
 */
import 'reflect-metadata';

export * as x509 from '@peculiar/x509';
export { AsnConvert } from '@peculiar/asn1-schema';
export { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
