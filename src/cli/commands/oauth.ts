/**
 * `aivault oauth setup CREDENTIAL|PROVIDER [--port N] [--no-listen]`: the OAuth2
 * authorization-code consent step, outside the broker. PKCE (S256) and a random `state`; a
 * loopback redirect listener on 127.0.0.1 (random port unless --port) receives the code, or the
 * user pastes the whole redirect URL on stdin (fallback, e.g. over SSH). The state is checked on
 * both paths. The code is exchanged at the credential's token endpoint (same https/host/SSRF rules
 * as the broker) and the refresh token is stored as the credential's refresh-token secret. Neither
 * token is ever printed. The client id/secret must already be in the vault.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parse, usage } from '../args.js';
import { info, json } from '../output.js';
import { AivaultError } from '../../errors/aivault-error.js';
import { loadRegistry } from '../../registry/load.js';
import { openVault } from '../../vault/open.js';
import { openCatalog } from '../../vault/catalog.js';
import { withAuditedVault } from '../../vault/audited.js';
import { readDevOverrides } from '../../broker/dev-overrides.js';
import { Upstream } from '../../broker/upstream.js';
import { checkedTokenUrl, tokenRequest, type OAuthSpec } from '../../broker/oauth.js';
import { BrokerDenial } from '../../broker/errors.js';

const b64url = (b: Buffer) => b.toString('base64url');

/** Wait for the redirect on the listener or a pasted redirect URL on stdin; returns the code. */
function waitForCode(server: http.Server | undefined, redirectUri: string, state: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, code?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.stdin.pause();
      process.stdin.unref?.();
      server?.close();
      server?.closeAllConnections();
      if (err) reject(err);
      else resolve(code!);
    };
    const fromParams = (p: URLSearchParams): void => {
      if (p.get('state') !== state) return finish(new AivaultError('usage', 'oauth setup: the redirect carried a wrong or missing state (possible CSRF); nothing stored'));
      const err = p.get('error');
      if (err) return finish(new AivaultError('usage', `oauth setup: the provider refused consent (${/^[a-z_]{1,40}$/.test(err) ? err : 'error'})`));
      const code = p.get('code');
      if (!code) return finish(new AivaultError('usage', 'oauth setup: the redirect carried no code'));
      finish(undefined, code);
    };
    const timer = setTimeout(() => finish(new AivaultError('usage', 'oauth setup: timed out waiting for the redirect')), timeoutMs);
    timer.unref();
    server?.on('request', (req, res) => {
      const u = new URL(req.url ?? '/', redirectUri);
      if (u.pathname !== new URL(redirectUri).pathname) {
        res.writeHead(404).end();
        return;
      }
      const ok = u.searchParams.get('state') === state && u.searchParams.has('code');
      res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(ok ? 'aivault: authorization received; you can close this tab.\n' : 'aivault: authorization failed; see the terminal.\n');
      fromParams(u.searchParams);
    });
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') return;
      let u: URL;
      try {
        u = new URL(line);
      } catch {
        info('aivault: paste the whole redirect URL (it carries the state), e.g. http://127.0.0.1:PORT/callback?code=...&state=...');
        return;
      }
      fromParams(u.searchParams);
    });
    process.stdin.on('end', () => {
      if (!server) finish(new AivaultError('usage', 'oauth setup: stdin closed before a redirect URL was pasted'));
    });
    process.stdin.resume();
  });
}

async function setup(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { port: { type: 'string' }, 'no-listen': { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } }, true);
  const [id, ...extra] = positionals;
  if (id === undefined) throw usage('oauth setup needs a credential or provider id');
  if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
  const vault = await openVault();
  const cat = await openCatalog({ vault, registry: loadRegistry() });
  const st = cat.credentialStatus(id);
  if (!st) throw usage(`unknown credential '${id}' (see: aivault credential list --all)`);
  const cred = st.credential;
  if (cred.auth.strategy !== 'oauth2') throw usage(`credential '${id}' does not use oauth2`);
  const spec = cred.auth as OAuthSpec;
  if (!spec.authorizeUrl) throw usage(`credential '${id}' has no authorization URL (credential create --authorize-url URL)`);
  const rtName = cred.secrets.refreshToken;
  if (!rtName) throw usage(`credential '${id}' names no refresh-token secret`);
  const fields: Record<string, string> = {};
  for (const [field, name] of Object.entries(cred.secrets)) {
    if (field === 'refreshToken') continue;
    fields[field] = await vault.getSecretValue(name);
  }
  if (!fields.clientId) throw usage(`credential '${id}' needs its client id secret in the vault first`);
  const tokenUrl = checkedTokenUrl(spec, [...cred.hosts, ...(cat.getProvider(cred.provider)?.hosts ?? [])]);

  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const state = b64url(randomBytes(16));
  let server: http.Server | undefined;
  let port = values.port !== undefined ? Number(values.port) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--port: invalid port '${values.port}'`);
  if (!values['no-listen']) {
    server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', () => reject(new AivaultError('usage', `oauth setup: cannot listen on 127.0.0.1:${port}`)));
      server!.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  }
  const redirectUri = server || port ? `http://127.0.0.1:${port}/callback` : 'http://127.0.0.1/callback';
  const auth = new URL(spec.authorizeUrl);
  auth.searchParams.set('response_type', 'code');
  auth.searchParams.set('client_id', fields.clientId);
  auth.searchParams.set('redirect_uri', redirectUri);
  auth.searchParams.set('code_challenge', challenge);
  auth.searchParams.set('code_challenge_method', 'S256');
  auth.searchParams.set('state', state);
  if (spec.scopes?.length) auth.searchParams.set('scope', spec.scopes.join(' '));
  auth.searchParams.set('access_type', 'offline'); // Google: issue a refresh token
  info(`aivault: open this URL in a browser and grant access:\n\n  ${auth.href}\n`);
  info(server ? `aivault: waiting for the redirect on ${redirectUri} (or paste the redirect URL here)` : 'aivault: after granting, paste the whole redirect URL here:');
  const timeoutMs = values.timeout !== undefined ? Number(values.timeout) * 1000 : 300_000;
  const code = await waitForCode(server, redirectUri, state, Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 300_000);

  const upstream = new Upstream(readDevOverrides(process.env));
  let tokens;
  try {
    tokens = await tokenRequest(upstream, tokenUrl, spec, fields, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  } catch (e) {
    throw new AivaultError('usage', `oauth setup: ${e instanceof BrokerDenial ? e.message : 'the token exchange failed'}`);
  } finally {
    await upstream.close();
  }
  if (!tokens.refreshToken) throw new AivaultError('usage', 'oauth setup: the token endpoint returned no refresh token (ask for offline access / consent again)');
  const refresh = tokens.refreshToken;
  await withAuditedVault(async (v) => {
    if (v.secretExists(rtName)) await v.rotateSecret(rtName, refresh);
    else await v.createSecret(rtName, refresh);
  });
  if (values.json) json({ credential: cred.id, stored: rtName });
  info(`aivault: refresh token stored as ${rtName} for credential '${cred.id}'`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'setup') return setup(rest);
  throw usage(sub === undefined ? 'oauth needs a subcommand: setup' : `unknown oauth subcommand '${sub}' (setup)`);
}
