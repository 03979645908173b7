import { parse, usage } from '../args.js';
import { info, json } from '../output.js';
import { AivaultError } from '../../errors/aivault-error.js';
import { withAuditedVault } from '../../vault/audited.js';
import { isEnvName } from '../../vault/metadata.js';
import { promptHidden } from '../../vault/tty-prompt.js';
import { readStdin, stripOneNewline } from '../../vault/read-stdin.js';
import type { KeyProviderSpec } from '../../vault/open.js';

/** A new passphrase: stdin, an env var, or typed twice on a terminal. */
export async function newPassphrase(fromStdin: string | undefined, envName: string): Promise<string> {
  if (fromStdin !== undefined) return fromStdin;
  const e = process.env[envName];
  if (e !== undefined && e !== '') return e;
  const a = await promptHidden('new passphrase: ');
  if (a === undefined) throw usage(`a passphrase is needed: --passphrase-stdin, ${envName}, or run in a terminal`);
  const b = await promptHidden('repeat passphrase: ');
  if (a !== b) throw usage('the passphrases do not match');
  return a;
}

/** `--provider` plus its options -> KeyProviderSpec. */
export async function providerSpec(
  provider: string | undefined,
  keyEnv: string | undefined,
  passphrase: () => Promise<string>,
): Promise<KeyProviderSpec> {
  switch (provider) {
    case 'file':
    case 'keychain':
      if (keyEnv !== undefined) throw usage('--key-env is only for --provider env');
      return { type: provider };
    case 'env':
      if (keyEnv === undefined) throw usage('--provider env needs --key-env NAME (a variable holding a base64 32-byte key)');
      if (!isEnvName(keyEnv)) throw usage(`invalid --key-env '${keyEnv}'`);
      return { type: 'env', keyEnv };
    case 'passphrase':
      if (keyEnv !== undefined) throw usage('--key-env is only for --provider env');
      return { type: 'passphrase', passphrase: await passphrase() };
    case undefined:
      throw usage('--provider is required (file, env, passphrase or keychain)');
    default:
      throw usage(`unknown key provider '${provider}' (file, env, passphrase or keychain)`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    provider: { type: 'string' },
    'key-env': { type: 'string' },
    'passphrase-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values['passphrase-stdin'] && values.provider !== 'passphrase') throw usage('--passphrase-stdin is only for --provider passphrase');
  const spec = await providerSpec(values.provider, values['key-env'], async () =>
    newPassphrase(values['passphrase-stdin'] ? stripOneNewline(await readStdin()) : undefined, 'AIVAULT_PASSPHRASE'),
  );
  if (spec.type === 'passphrase' && spec.passphrase === '') throw new AivaultError('usage', 'the passphrase must not be empty');
  const s = await withAuditedVault((v) => v.init(spec));
  if (values.json) json(s);
  info(`aivault: vault initialised at ${s.dir} with the ${s.provider} key provider (fingerprint ${s.fingerprint})`);
  return 0;
}
