/**
 * SSRF through DNS: a custom capability whose host name resolves to a loopback, private,
 * link-local or metadata address (the `localtest.me` / rebinding trick). Offline we cannot resolve
 * such names for real, so the broker's injectable resolver (BrokerOptions.lookup, the same path
 * the system resolver takes) answers with the hostile addresses. Every answer is refused before
 * any connection; a name with ANY forbidden address is refused even when another is public.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startBroker } from '../../src/broker/index.js';
import type { Capability, Credential } from '../../src/registry/types.js';
import { memoryAudit, testCatalog } from '../helpers/catalog.js';
import { call } from '../broker/setup.js';

const HOSTILE = [
  '127.0.0.1', '127.53.0.1', '0.0.0.0', '10.1.2.3', '172.16.5.4', '192.168.1.1', '100.64.0.1',
  '169.254.169.254', '169.254.170.2', '100.100.100.200', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1',
  '::ffff:127.0.0.1', '::ffff:169.254.169.254', '64:ff9b::7f00:1', '2002:7f00:1::', '198.18.0.1', '224.0.0.1', '255.255.255.255',
];

const SECRET = 'sk-SENTINEL-ssrf-5a5a5a5a5a';

function customCatalog(hosts: string[]) {
  const auth = { strategy: 'header' as const, header: 'authorization', template: 'Bearer {{secret}}' };
  const credentials: Credential[] = [{ id: 'ssrf', provider: 'ssrfprov', secrets: { secret: 'SSRF_KEY' }, auth, hosts, custom: true }];
  const capabilities: Capability[] = hosts.map((h, i) => ({ id: `ssrfprov/c${i}`, provider: 'ssrfprov', methods: ['GET'], pathPrefixes: ['/'], hosts: [h], custom: true }));
  return testCatalog({
    secrets: { SSRF_KEY: SECRET },
    credentials,
    capabilities,
    providers: [{ provider: 'ssrfprov', displayName: 'ssrf', category: 'other', vaultSecrets: {}, auth, hosts, capabilities: [] }],
  });
}

test('names resolving to loopback/private/link-local/metadata addresses are refused (host_not_allowed), never connected', async () => {
  const hosts = HOSTILE.map((_, i) => `h${i}.rebind.example`);
  const answers = new Map<string, Array<{ address: string; family: number }>>();
  HOSTILE.forEach((a, i) => answers.set(hosts[i]!, [{ address: a, family: net.isIPv6(a) ? 6 : 4 }]));
  // one name with a public AND a private answer (DNS rebinding / round robin)
  hosts.push('mixed.rebind.example');
  answers.set('mixed.rebind.example', [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }]);
  const looked: string[] = [];
  const audit = memoryAudit();
  const broker = await startBroker({
    catalog: customCatalog(hosts),
    audit,
    lookup: async (h) => {
      looked.push(h);
      return answers.get(h) ?? [];
    },
  });
  try {
    const t = broker.mintToken({ runId: 'ssrf', capabilities: ['ssrfprov/*'] });
    for (let i = 0; i < hosts.length; i++) {
      const r = await call(broker, 'POST', '/aivault/proxy', {
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: JSON.stringify({ capability: `ssrfprov/c${i}`, request: { method: 'GET', path: '/latest/meta-data/' } }),
      });
      assert.equal(r.status, 403, `${hosts[i]} → ${HOSTILE[i] ?? 'mixed'}: ${r.body}`);
      assert.equal(r.headers['x-aivault-error'], 'host_not_allowed');
      assert.ok(!r.body.includes(SECRET));
    }
    assert.deepEqual([...new Set(looked)].sort(), [...hosts].sort(), 'every name went through the resolver check');
    assert.ok(audit.events.every((e) => e.decision === 'deny' && e.code === 'host_not_allowed'));
  } finally {
    await broker.close();
  }
});
