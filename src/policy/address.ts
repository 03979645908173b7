/**
 * Classification of resolved IP addresses (SSRF defence, SPEC §6): the broker refuses to connect
 * to anything that is not a public unicast address. Pure: no I/O.
 *
 * Input is an address as returned by DNS resolution: dotted-quad IPv4 (strict decimal, no leading
 * zeros) or IPv6 (any RFC 4291 text form, optional '%zone', optional brackets). Anything that does
 * not parse is 'invalid' and therefore forbidden. Embedded IPv4 is classified through its carrier:
 * IPv4-mapped (::ffff:0:0/96, incl. the hex form ::ffff:7f00:1), IPv4-translated (::ffff:0:0:0/96),
 * NAT64 64:ff9b::/96 and 6to4 2002::/16 take the class of the embedded IPv4 address (a public
 * embedded address stays public for NAT64/6to4, so IPv6-only networks work). IPv4-compatible
 * ::a.b.c.d, Teredo 2001::/32, local NAT64 64:ff9b:1::/48 and all other non-global space are
 * forbidden.
 */

export type AddressClass =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'cgnat'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'benchmark'
  | 'documentation'
  | 'unique-local'
  | 'invalid';

/** Parse strict dotted-quad decimal IPv4 into a 32-bit unsigned number. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Parse IPv6 text into 8 16-bit groups. Accepts '::', embedded dotted IPv4, '%zone', '[...]'. */
export function parseIPv6(input: string): number[] | undefined {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const z = s.indexOf('%');
  if (z !== -1) {
    if (z === s.length - 1) return undefined;
    s = s.slice(0, z);
  }
  if (s.length === 0 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail: number[] = [];
  // embedded IPv4 at the end
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    s = s.slice(0, lastColon + 1);
    if (s.endsWith('::')) {
      // fine: '::' directly before the IPv4 part
    } else if (s.endsWith(':')) {
      s = s.slice(0, -1);
    } else return undefined;
  }
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl !== -1) {
    const head = parseGroups(s.slice(0, dbl));
    const rest = parseGroups(s.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    const all = parseGroups(s);
    if (!all) return undefined;
    groups = [...all, ...tail];
    if (groups.length !== 8) return undefined;
  }
  return groups.length === 8 ? groups : undefined;
}

/** Parsed range bases (constants: parsed once, not per classification). */
const V4_BASES = new Map<string, number>();

function inV4(n: number, base: string, bits: number): boolean {
  let b = V4_BASES.get(base);
  if (b === undefined) V4_BASES.set(base, (b = parseIPv4(base)!));
  if (bits === 0) return true;
  const shift = 32 - bits;
  return Math.floor(n / 2 ** shift) === Math.floor(b / 2 ** shift);
}

/** Cloud metadata endpoints (IPv4). */
const V4_METADATA = ['169.254.169.254', '169.254.170.2', '169.254.169.253', '169.254.169.123', '100.100.100.200', '192.0.0.192'];

const V4_METADATA_N = V4_METADATA.map((m) => parseIPv4(m)!);

export function classifyIPv4(n: number): AddressClass {
  if (V4_METADATA_N.includes(n)) return 'metadata';
  if (n === 0xffffffff) return 'broadcast';
  if (inV4(n, '0.0.0.0', 8)) return 'unspecified';
  if (inV4(n, '10.0.0.0', 8) || inV4(n, '172.16.0.0', 12) || inV4(n, '192.168.0.0', 16)) return 'private';
  if (inV4(n, '127.0.0.0', 8)) return 'loopback';
  if (inV4(n, '169.254.0.0', 16)) return 'link-local';
  if (inV4(n, '100.64.0.0', 10)) return 'cgnat';
  if (inV4(n, '198.18.0.0', 15)) return 'benchmark';
  if (inV4(n, '192.0.2.0', 24) || inV4(n, '198.51.100.0', 24) || inV4(n, '203.0.113.0', 24)) return 'documentation';
  if (inV4(n, '192.0.0.0', 24) || inV4(n, '192.88.99.0', 24)) return 'reserved';
  if (inV4(n, '224.0.0.0', 4)) return 'multicast';
  if (inV4(n, '240.0.0.0', 4)) return 'reserved';
  return 'public';
}

function v4From(hi: number, lo: number): number {
  return hi * 65536 + lo;
}

export function classifyIPv6(g: number[]): AddressClass {
  const [a, b, c, d, e, f, gg, h] = g as [number, number, number, number, number, number, number, number];
  const zeroPrefix = (k: number): boolean => g.slice(0, k).every((x) => x === 0);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeroPrefix(7) && h === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d
  if (zeroPrefix(5) && f === 0xffff) return classifyIPv4(v4From(gg, h));
  // IPv4-translated ::ffff:0:a.b.c.d (RFC 2765)
  if (zeroPrefix(4) && e === 0xffff && f === 0) return classifyIPv4(v4From(gg, h));
  // NAT64 well-known prefix 64:ff9b::/96
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return classifyIPv4(v4From(gg, h));
  if (a === 0x64 && b === 0xff9b && c === 1) return 'reserved'; // local-use NAT64 64:ff9b:1::/48
  // 6to4 2002::/16 embeds IPv4 in bits 16..48
  if (a === 0x2002) return classifyIPv4(v4From(b, c));
  // AWS IMDS over IPv6
  if (a === 0xfd00 && b === 0x0ec2 && zeroPrefix(0) && c === 0 && d === 0 && e === 0 && f === 0 && gg === 0 && h === 0x254)
    return 'metadata';
  if ((a & 0xfe00) === 0xfc00) return 'unique-local';
  if ((a & 0xffc0) === 0xfe80) return 'link-local';
  if ((a & 0xffc0) === 0xfec0) return 'reserved'; // site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return 'multicast';
  if (a === 0x2001 && b === 0x0db8) return 'documentation';
  if (a === 0x3fff && (b & 0xf000) === 0) return 'documentation'; // 3fff::/20
  if (a === 0x2001 && b === 0x0002 && c === 0) return 'benchmark';
  if (a === 0x2001 && b < 0x0200) return 'reserved'; // 2001::/23 IETF assignments incl. Teredo 2001::/32
  if (a === 0x0100 && b === 0 && c === 0 && d === 0) return 'reserved'; // discard-only 100::/64
  if ((a & 0xe000) !== 0x2000) return 'reserved'; // outside global unicast 2000::/3 (incl. ::a.b.c.d)
  return 'public';
}

/** Class of a resolved address; 'invalid' when it does not parse. */
export function classifyAddress(ip: string): AddressClass {
  if (typeof ip !== 'string') return 'invalid';
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(ip);
  if (v6 !== undefined) return classifyIPv6(v6);
  return 'invalid';
}

/** True unless the address is a public unicast address. */
export function isForbiddenAddress(ip: string): boolean {
  return classifyAddress(ip) !== 'public';
}
