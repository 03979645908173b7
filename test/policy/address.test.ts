import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyAddress, isForbiddenAddress, parseIPv6, type AddressClass } from '../../src/policy/address.js';

const CASES: Array<[string, AddressClass]> = [
  // IPv4 public
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['104.18.7.192', 'public'],
  ['9.255.255.255', 'public'],
  ['11.0.0.0', 'public'],
  ['172.15.255.255', 'public'],
  ['172.32.0.0', 'public'],
  ['192.167.255.255', 'public'],
  ['192.169.0.0', 'public'],
  ['100.63.255.255', 'public'],
  ['100.128.0.0', 'public'],
  ['126.255.255.255', 'public'],
  ['128.0.0.0', 'public'],
  ['169.253.255.255', 'public'],
  ['169.255.0.0', 'public'],
  ['198.17.255.255', 'public'],
  ['198.20.0.0', 'public'],
  ['223.255.255.255', 'public'],
  ['1.0.0.0', 'public'],
  // 0.0.0.0/8
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['0.255.255.255', 'unspecified'],
  // private
  ['10.0.0.0', 'private'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.0', 'private'],
  ['172.20.1.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.0.0', 'private'],
  ['192.168.1.1', 'private'],
  ['192.168.255.255', 'private'],
  // loopback
  ['127.0.0.1', 'loopback'],
  ['127.0.0.0', 'loopback'],
  ['127.1.2.3', 'loopback'],
  ['127.255.255.255', 'loopback'],
  // link-local + metadata
  ['169.254.0.1', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['169.254.169.253', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['192.0.0.192', 'metadata'],
  // CGNAT
  ['100.64.0.0', 'cgnat'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  // benchmark, documentation, reserved
  ['198.18.0.0', 'benchmark'],
  ['198.19.255.255', 'benchmark'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['192.0.0.1', 'reserved'],
  ['192.88.99.1', 'reserved'],
  // multicast, reserved class E, broadcast
  ['224.0.0.1', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['254.255.255.255', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv4 non-canonical forms are not resolver output: invalid (forbidden)
  ['2130706433', 'invalid'],
  ['0x7f000001', 'invalid'],
  ['0x7f.0.0.1', 'invalid'],
  ['0177.0.0.1', 'invalid'],
  ['017700000001', 'invalid'],
  ['127.1', 'invalid'],
  ['127.0.1', 'invalid'],
  ['08.8.8.8', 'invalid'],
  ['8.8.8.08', 'invalid'],
  ['256.0.0.1', 'invalid'],
  ['1.2.3.4.5', 'invalid'],
  ['1.2.3.', 'invalid'],
  [' 8.8.8.8', 'invalid'],
  ['8.8.8.8 ', 'invalid'],
  ['', 'invalid'],
  ['localhost', 'invalid'],
  ['api.openai.com', 'invalid'],
  // IPv6 basics
  ['::', 'unspecified'],
  ['0:0:0:0:0:0:0:0', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', 'loopback'],
  ['[::1]', 'loopback'],
  ['2606:4700:4700::1111', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['2a00:1450:4001:80e::200e', 'public'],
  ['2600::', 'public'],
  ['3ffe::1', 'public'],
  // IPv4-mapped (dotted and hex forms), compat, translated
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:0001', 'loopback'],
  ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:a00:1', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  ['::ffff:c0a8:101', 'private'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:100.64.0.1', 'cgnat'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:808:808', 'public'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:8.8.8.8', 'public'],
  ['::127.0.0.1', 'reserved'],
  ['::8.8.8.8', 'reserved'],
  ['::10.0.0.1', 'reserved'],
  // NAT64 64:ff9b::/96
  ['64:ff9b::127.0.0.1', 'loopback'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['64:ff9b::8.8.8.8', 'public'],
  ['64:ff9b:1::1', 'reserved'],
  ['64:ff9b:1::8.8.8.8', 'reserved'],
  // 6to4 2002::/16
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:0101::1', 'private'],
  ['2002:a00:1::1', 'private'],
  ['2002:a9fe:a9fe::', 'metadata'],
  ['2002:808:808::1', 'public'],
  // Teredo, IETF, documentation, benchmark, discard
  ['2001::1', 'reserved'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
  ['2001:10::1', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['2001:DB8:ffff::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['3fff:fff::1', 'documentation'],
  ['2001:2::1', 'benchmark'],
  ['100::1', 'reserved'],
  // ULA, metadata, link-local, site-local, multicast
  ['fc00::1', 'unique-local'],
  ['fd00::1', 'unique-local'],
  ['fdff:ffff::1', 'unique-local'],
  ['fd00:ec2::254', 'metadata'],
  ['fd00:0ec2:0000:0000:0000:0000:0000:0254', 'metadata'],
  ['fd00:ec2::253', 'unique-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['fe80::1%25eth0', 'link-local'],
  ['[fe80::1%eth0]', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'reserved'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  // outside 2000::/3
  ['4000::1', 'reserved'],
  ['1::1', 'reserved'],
  ['e000::1', 'reserved'],
  // malformed IPv6
  [':::1', 'invalid'],
  ['1::2::3', 'invalid'],
  ['12345::1', 'invalid'],
  ['1:2:3:4:5:6:7:8:9', 'invalid'],
  ['1:2:3:4:5:6:7', 'invalid'],
  ['1:2:3:4:5:6:7::8', 'invalid'],
  ['::ffff:127.0.0.256', 'invalid'],
  ['::ffff:127.0.1', 'invalid'],
  ['::ffff:0177.0.0.1', 'invalid'],
  ['g::1', 'invalid'],
  ['fe80::1%', 'invalid'],
  ['[::1', 'invalid'],
  ['::1]', 'invalid'],
  ['1.2.3.4::', 'invalid'],
];

for (const [ip, want] of CASES) {
  test(`classifyAddress(${JSON.stringify(ip)}) = ${want}`, () => {
    assert.equal(classifyAddress(ip), want);
    assert.equal(isForbiddenAddress(ip), want !== 'public');
  });
}

test('parseIPv6 expands :: and embedded IPv4', () => {
  assert.deepEqual(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  assert.deepEqual(parseIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseIPv6('1:2:3:4:5:6:1.2.3.4'), [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
  assert.deepEqual(parseIPv6('1::8'), [1, 0, 0, 0, 0, 0, 0, 8]);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:1.2.3.4'), undefined);
});

const octet = fc.nat({ max: 255 });
const v4In = (first: number[], rest: number) => fc.tuple(...(Array.from({ length: rest }, () => octet) as [typeof octet])).map((r) => [...first, ...r].join('.'));
const hex16 = (a: number, b: number): string => ((a << 8) | b).toString(16);
function mappedForms(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return [
    '::ffff:' + v4,
    '::FFFF:' + v4,
    '0:0:0:0:0:ffff:' + v4,
    '::ffff:' + hex16(a, b) + ':' + hex16(c, d),
    '0000:0000:0000:0000:0000:ffff:' + hex16(a, b).padStart(4, '0') + ':' + hex16(c, d).padStart(4, '0'),
    '64:ff9b::' + v4,
    '64:ff9b::' + hex16(a, b) + ':' + hex16(c, d),
    '2002:' + hex16(a, b) + ':' + hex16(c, d) + '::1',
  ];
}

const FORBIDDEN_V4: Array<[string, fc.Arbitrary<string>]> = [
  ['10/8', v4In([10], 3)],
  ['127/8', v4In([127], 3)],
  ['169.254/16', v4In([169, 254], 2)],
  ['192.168/16', v4In([192, 168], 2)],
  ['172.16/12', fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([b, c, d]) => `172.${b}.${c}.${d}`)],
  ['100.64/10', fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`)],
  ['0/8', v4In([0], 3)],
  ['224/3', fc.tuple(fc.integer({ min: 224, max: 255 }), octet, octet, octet).map((x) => x.join('.'))],
  ['198.18/15', fc.tuple(fc.integer({ min: 18, max: 19 }), octet, octet).map(([b, c, d]) => `198.${b}.${c}.${d}`)],
];

for (const [name, arb] of FORBIDDEN_V4) {
  test(`property: every ${name} address is forbidden, also as ::ffff:, NAT64 and 6to4`, () => {
    fc.assert(
      fc.property(arb, (ip) => {
        assert.equal(isForbiddenAddress(ip), true, ip);
        for (const f of mappedForms(ip)) assert.equal(isForbiddenAddress(f), true, f);
        for (const f of mappedForms(ip)) assert.equal(classifyAddress(f), classifyAddress(ip), f);
      }),
      { numRuns: 1000 },
    );
  });
}

test('property: fe80::/10, fc00::/7 and ff00::/8 are always forbidden', () => {
  const g = fc.nat({ max: 0xffff }).map((n) => n.toString(16));
  fc.assert(
    fc.property(fc.integer({ min: 0xfc00, max: 0xffff }), fc.array(g, { minLength: 7, maxLength: 7 }), (first, rest) => {
      const ip = [first.toString(16), ...rest].join(':');
      if (first >= 0xfe80 && first < 0xfec0) assert.equal(classifyAddress(ip), 'link-local');
      assert.equal(isForbiddenAddress(ip), true, ip);
    }),
    { numRuns: 1000 },
  );
});

test('property: classification never throws and unparseable input is forbidden', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 45 }), (s) => {
      const c = classifyAddress(s);
      if (c === 'invalid') assert.equal(isForbiddenAddress(s), true);
    }),
    { numRuns: 2000 },
  );
});
