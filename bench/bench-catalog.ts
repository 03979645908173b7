/** The one-provider catalog the broker benches run against: `bench/all` on `host`, a header-auth key. */
export function benchCatalog(host: string, secret: string) {
  const provider = {
    provider: 'bench',
    displayName: 'Bench',
    category: 'other' as const,
    vaultSecrets: {},
    auth: { strategy: 'header' as const, header: 'authorization', template: 'Bearer {{secret}}' },
    hosts: [host],
    capabilities: [],
  };
  const cap = { id: 'bench/all', provider: 'bench', methods: ['GET', 'POST'], pathPrefixes: ['/'], hosts: [host], custom: true };
  const cred = { id: 'bench', provider: 'bench', secrets: { secret: 'BENCH_KEY' }, auth: provider.auth, hosts: [host], custom: true };
  return {
    getProvider: (id: string) => (id === 'bench' ? provider : undefined),
    getCapability: (id: string) => (id === cap.id ? cap : undefined),
    capabilitiesOf: (p: string) => (p === 'bench' ? [cap] : []),
    getCredential: (id: string) => (id === 'bench' ? cred : undefined),
    credentialsFor: (p: string) => (p === 'bench' ? [cred] : []),
    resolveSecrets: async () => [{ field: 'secret', name: 'BENCH_KEY', value: secret }],
  };
}
