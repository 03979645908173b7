import { parse, usage } from '../args.js';
import { info, json } from '../output.js';
import { withAuditedVault } from '../../vault/audited.js';
import { readStdin, stripOneNewline } from '../../vault/read-stdin.js';
import { newPassphrase, providerSpec } from './init.js';

/**
 * aivault rotate-master [--provider P] [--key-env NAME] [--passphrase-stdin] [--new-passphrase-stdin]
 * Stdin lines: the current passphrase first (with --passphrase-stdin), then the new one.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    provider: { type: 'string' },
    'key-env': { type: 'string' },
    'passphrase-stdin': { type: 'boolean' },
    'new-passphrase-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  let current: string | undefined;
  let next: string | undefined;
  if (values['passphrase-stdin'] || values['new-passphrase-stdin']) {
    const lines = (await readStdin()).split(/\r?\n/);
    if (values['passphrase-stdin']) current = lines.shift() ?? '';
    if (values['new-passphrase-stdin']) next = lines.shift() ?? '';
    if (next === '') throw usage('the new passphrase must not be empty');
  }
  const s = await withAuditedVault(
    async (v) => {
      const meta = v.meta();
      if (!meta) throw usage(`the vault at ${v.paths.root} is not initialised yet; nothing to rotate`);
      await v.ensureUnlocked(); // ask for the current passphrase before the new one
      const provider = values.provider ?? meta.keyProvider.type;
      if (provider === 'env' && values['key-env'] === undefined) {
        throw usage('rotating to the env provider needs --key-env NAME: a variable holding the NEW base64 32-byte key');
      }
      const spec = await providerSpec(provider, values['key-env'], () => newPassphrase(next, 'AIVAULT_NEW_PASSPHRASE'));
      return v.rotateMaster(spec);
    },
    current !== undefined ? { passphrase: current } : {},
  );
  if (values.json) json(s);
  info(`aivault: master key rotated: ${s.rotated} secret(s) re-wrapped, ${s.provider} key provider, fingerprint ${s.fingerprint}`);
  return 0;
}
