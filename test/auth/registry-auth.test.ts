// Every shipped provider (registry/*.json) through the pure policy + auth functions: auth applies
// with sentinel secrets, the secrets never survive redaction, prefixes and hosts are in normal
// form, and every capability is reachable by its own method + prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthSpec, Capability } from '../../src/registry/types.js';
import { applyAuth, authSlots, secretValuesOf, redactUrlForDisplay, REDACTED } from '../../src/auth/index.js';
import { normalizePath } from '../../src/policy/path.js';
import { injectAuth } from '../../src/broker/inject.js';

/** strategies that sign the whole request (applied by the broker's injectAuth, not the pure templates) */
const SIGNED: string[] = ['aws-sigv4', 'hmac'];
/** strategies with no per-request template to check here (oauth2: test/broker/oauth.test.ts; mtls: TLS) */
const NO_TEMPLATE: string[] = ['oauth2', 'mtls'];
import { normalizeHost, effectiveHosts } from '../../src/policy/host.js';
import { inferCapability, checkCapability } from '../../src/policy/capability.js';
import { checkCallerHeaders } from '../../src/policy/headers.js';
import { checkCallerQuery } from '../../src/policy/query.js';

interface RawProvider {
  provider: string;
  vaultSecrets: Record<string, string>;
  auth: AuthSpec;
  hosts: string[];
  capabilities: Array<{ id: string; methods: string[]; pathPrefixes: string[]; host?: string; hosts?: string[] }>;
  authSlots?: { headers?: string[]; queryParams?: string[] };
}

const dir = join(process.cwd(), 'registry');
const providers: RawProvider[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RawProvider);

test('registry is present', () => assert.ok(providers.length >= 5));

for (const p of providers) {
  const fields: Record<string, string> = {};
  for (const [name, field] of Object.entries(p.vaultSecrets)) fields[field] = `SENTINEL-${name}-x1y2z3`;
  const caps: Capability[] = p.capabilities.map((c) => ({
    id: c.id,
    methods: c.methods,
    pathPrefixes: c.pathPrefixes,
    hosts: c.hosts ?? (c.host ? [c.host] : p.hosts),
    provider: p.provider,
    custom: false,
  }));

  test(`${p.provider}: auth applies and every secret form is redactable`, { skip: NO_TEMPLATE.includes(p.auth.strategy) ? 'token/TLS based, covered by the broker tests' : false }, async () => {
    const cred = { id: p.provider, provider: p.provider, secrets: {}, auth: p.auth, hosts: p.hosts, custom: false };
    const out = SIGNED.includes(p.auth.strategy)
      ? await injectAuth(cred, fields, { host: p.hosts[0]!, method: 'GET', path: '/x', query: 'a=1', headers: { accept: '*/*' }, body: null, maxBody: 1024 })
      : applyAuth(p.auth, fields, { path: '/x', query: 'a=1', headers: { accept: '*/*' } });
    const wire = [out.path, out.query, ...Object.entries(out.headers).map(([k, v]) => `${k}: ${v}`)].join('\n');
    assert.notEqual(wire, ['/x', 'a=1', 'accept: */*'].join('\n'), 'auth must change the request');
    let red = wire;
    for (const v of secretValuesOf(fields, p.auth)) red = red.split(v).join(REDACTED);
    for (const v of Object.values(fields)) assert.ok(!red.includes(v), `${v} survived`);
    const shown = redactUrlForDisplay(`https://${p.hosts[0]}${out.path}?${out.query}`, p.auth, fields);
    for (const v of Object.values(fields)) assert.ok(!shown.includes(v));
  });

  test(`${p.provider}: the caller may not use the provider's auth slots`, () => {
    const slots = authSlots(p.auth, p.authSlots);
    assert.ok(slots.headers.length + slots.queryParams.length > 0 || p.auth.strategy === 'path');
    for (const h of slots.headers) {
      assert.equal(checkCallerHeaders({ [h.toUpperCase()]: 'caller-key' }, slots).ok, false, h);
    }
    for (const q of slots.queryParams) assert.equal(checkCallerQuery(`${q}=caller-key`, slots.queryParams).ok, false, q);
  });

  test(`${p.provider}: hosts and prefixes are in normal form`, () => {
    for (const h of p.hosts) assert.equal(normalizeHost(h), h.toLowerCase(), h);
    for (const c of caps) {
      assert.ok(effectiveHosts(p.hosts, c.hosts).length > 0, `${c.id} has no effective host`);
      for (const pre of c.pathPrefixes) {
        const n = normalizePath(pre);
        assert.ok(n.ok && n.path === pre && n.query === '', `${c.id} prefix ${pre} is not a normalised path`);
      }
    }
  });

  test(`${p.provider}: every capability is reachable by its own methods and prefixes`, () => {
    for (const c of caps) {
      for (const m of c.methods) {
        for (const pre of c.pathPrefixes) {
          assert.deepEqual(checkCapability(m, pre, c), { ok: true }, `${c.id} ${m} ${pre}`);
          const r = inferCapability(m, pre, caps);
          assert.ok(r.ok, `${c.id} ${m} ${pre}`);
          if (r.ok) assert.ok(checkCapability(m, pre, r.capability).ok);
          if (!pre.endsWith('/')) {
            const glued = checkCapability(m, pre + 'X', c);
            // another prefix of the same capability could legitimately cover the glued path
            if (!c.pathPrefixes.some((o) => o !== pre && checkCapability(m, pre + 'X', { ...c, pathPrefixes: [o] }).ok))
              assert.deepEqual(glued, { ok: false, code: 'path_not_allowed' }, `${c.id} ${pre}X`);
          }
        }
      }
    }
  });
}
