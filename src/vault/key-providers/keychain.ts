import { AivaultError } from '../../errors/aivault-error.js';
import { decodeKey } from './decode-key.js';

interface KeyringEntry {
  setPassword(password: string): Promise<void>;
  getPassword(): Promise<string | null>;
  deletePassword?(): Promise<boolean>;
  deleteCredential?(): Promise<boolean>;
}
interface KeyringModule {
  AsyncEntry: new (service: string, account: string, options?: { linux?: { store: string } }) => KeyringEntry;
}

/**
 * On Linux require the Secret Service: the library's silent fallback (kernel keyutils) lives in
 * memory and is gone after a reboot, which would lose the vault's key.
 */
const ENTRY_OPTIONS = process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;

let mod: Promise<KeyringModule> | undefined;

/** Loads @napi-rs/keyring on first use only (optional dependency; no cost for other providers). */
async function keyring(): Promise<KeyringModule> {
  mod ??= (async () => {
    if (process.env.AIVAULT_TEST_NO_KEYCHAIN === '1') throw new Error('disabled for tests');
    const name = '@napi-rs/keyring';
    const m = (await import(name)) as Partial<KeyringModule> & { default?: Partial<KeyringModule> };
    const AsyncEntry = m.AsyncEntry ?? m.default?.AsyncEntry;
    if (!AsyncEntry) throw new Error('module has no AsyncEntry');
    return { AsyncEntry };
  })();
  try {
    return await mod;
  } catch (e) {
    mod = undefined;
    throw unavailable(e);
  }
}

function unavailable(e: unknown): AivaultError {
  if (e instanceof AivaultError) return e;
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new AivaultError('keychain_unavailable', `OS keychain is not available (${why}); use --provider file, env or passphrase`);
}

export async function keychainGet(service: string, account: string): Promise<Uint8Array> {
  const { AsyncEntry } = await keyring();
  let v: string | null;
  try {
    v = await new AsyncEntry(service, account, ENTRY_OPTIONS).getPassword();
  } catch (e) {
    throw unavailable(e);
  }
  if (v === null) throw new AivaultError('vault_locked', `the OS keychain has no entry ${service}/${account}: the vault cannot be unlocked`);
  const k = decodeKey(v);
  if (!k) throw new AivaultError('vault_locked', `the OS keychain entry ${service}/${account} is not a valid key`);
  return k;
}

export async function keychainSet(service: string, account: string, kek: Uint8Array): Promise<void> {
  const { AsyncEntry } = await keyring();
  try {
    await new AsyncEntry(service, account, ENTRY_OPTIONS).setPassword(Buffer.from(kek).toString('base64'));
  } catch (e) {
    throw unavailable(e);
  }
}

export async function keychainDelete(service: string, account: string): Promise<void> {
  try {
    const { AsyncEntry } = await keyring();
    const entry = new AsyncEntry(service, account, ENTRY_OPTIONS);
    if (entry.deleteCredential) await entry.deleteCredential();
    else if (entry.deletePassword) await entry.deletePassword();
  } catch {
    // best effort: a leftover entry of a retired key is harmless
  }
}

/** Probe: can we store and read back an entry? (init and tests) */
export async function keychainAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const { AsyncEntry } = await keyring();
    const e = new AsyncEntry('aivault-probe', `probe-${process.pid}`, ENTRY_OPTIONS);
    await e.setPassword('probe');
    const v = await e.getPassword();
    if (e.deleteCredential) await e.deleteCredential();
    else if (e.deletePassword) await e.deletePassword();
    return v === 'probe' ? { ok: true } : { ok: false, reason: 'keychain did not return the stored probe' };
  } catch (e) {
    return { ok: false, reason: unavailable(e).message };
  }
}
