import { parse } from '../args.js';
import { data, json } from '../output.js';
import { openVault } from '../../vault/open.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const vault = await openVault();
  const s = await vault.status();
  if (values.json) {
    json(s);
    return s.corruptCount > 0 ? 1 : 0;
  }
  const key = !s.provider
    ? 'not initialised (the file key provider is used on first write)'
    : s.provider === 'file'
      ? `file (${s.keyFile})`
      : s.provider === 'env'
        ? `env (${s.keyEnv})`
        : s.provider;
  const lines = [
    `vault:        ${s.dir}`,
    `key provider: ${key}`,
    `fingerprint:  ${s.fingerprint ?? '-'}`,
    `secrets:      ${s.secretCount}${s.corruptCount > 0 ? ` (+${s.corruptCount} unreadable: see 'aivault secrets list')` : ''}`,
    `custom:       ${s.customCredentials} credential(s), ${s.customCapabilities} capability(ies)`,
  ];
  data(lines.join('\n'));
  return s.corruptCount > 0 ? 1 : 0;
}
