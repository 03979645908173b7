/** Shared setup for broker tests: fake provider + in-memory catalog + in-process broker. */
import { startBroker, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { memoryAudit, testCatalog, type TestCatalog, type TestCatalogOptions } from '../helpers/catalog.js';
import type { ProviderDef } from '../../src/registry/types.js';

/** A custom test provider on the fixture hosts (header auth in its own `x-acme-key`). */
export const ACME: ProviderDef = {
  provider: 'acme',
  displayName: 'Acme (test)',
  category: 'other',
  vaultSecrets: {},
  auth: { strategy: 'header', header: 'x-acme-key', template: '{{secret}}' },
  hosts: ['api.example-custom.test'],
  capabilities: [],
};

export const SENTINEL = {
  OPENAI_API_KEY: 'sk-SENTINEL-openai-0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-SENTINEL-anthropic-0123456789',
  GEMINI_API_KEY: 'AIza-SENTINEL-gemini-0123456789',
  TELEGRAM_BOT_TOKEN: '123456:SENTINEL-telegram-ABCdef',
  GITHUB_TOKEN: 'ghp_SENTINEL_github_0123456789',
};
export const SECRET_VALUES = Object.values(SENTINEL);

export interface Env {
  broker: Broker;
  provider: FakeProvider;
  catalog: TestCatalog;
  audit: ReturnType<typeof memoryAudit>;
  close(): Promise<void>;
}

export async function setup(
  opts: Partial<TestCatalogOptions> & { provider?: FakeProvider; env?: NodeJS.ProcessEnv; lookup?: BrokerOptions['lookup']; runId?: string } = {},
): Promise<Env> {
  const provider = opts.provider ?? (await startFakeProvider());
  const catalog = testCatalog({ secrets: { ...SENTINEL }, ...opts });
  const audit = memoryAudit();
  const broker = await startBroker({ catalog, audit, env: opts.env ?? provider.devEnv(), ...(opts.lookup ? { lookup: opts.lookup } : {}), ...(opts.runId ? { runId: opts.runId } : {}) });
  return {
    broker,
    provider,
    catalog,
    audit,
    async close() {
      await broker.close();
      if (!opts.provider) await provider.close();
    },
  };
}

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request to the broker (node:http, so every header is under test control). */
export async function call(
  broker: Broker,
  method: string,
  path: string,
  opts: { headers?: Record<string, string | string[]>; body?: string | Buffer; host?: string } = {},
): Promise<Resp> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: broker.port, method, path, headers: { host: opts.host ?? `127.0.0.1:${broker.port}`, ...opts.headers }, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Assert no sentinel secret appears anywhere in `text`. */
export function leaks(text: string): string[] {
  return SECRET_VALUES.filter((v) => text.includes(v) || text.includes(encodeURIComponent(v)));
}
