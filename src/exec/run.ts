/**
 * `aivault exec` orchestration (SPEC §5): setup (125 on any failure, before a child exists) →
 * broker listening + token minted → child spawned → supervised → teardown → exit code.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onExit } from 'signal-exit';
import { AivaultError, isAivaultError } from '../errors/aivault-error.js';
import type { AuditSink } from '../audit/types.js';
import type { Registry } from '../registry/load.js';
import type { CatalogOptions } from '../vault/catalog.js';
import type { Vault } from '../vault/vault.js';
import type { Broker as ExecBroker, startBroker as startBrokerFn } from '../broker/index.js';
import { openBrokerListener, type BrokerListener } from '../broker/listen.js';
import { TokenTable } from '../broker/tokens.js';
import { buildChildEnv, isRiskyName } from './env.js';
import { classifyRunEnv, readRunEnv, type DotenvParser } from './env-file.js';
import { EXIT_LAUNCHER } from './exit-code.js';
import type { ExecOptions } from './options.js';
import { resolveCommand } from './resolve-command.js';
import { isolationEnv, needsIsolationDir } from './sdk-isolation.js';
import { checkChildVars } from './child-vars.js';
import { refuseInsideRun } from './nested.js';
import { knownCapabilityIds } from '../registry/suggest.js';
import { chooseCredentials, providersOf, resolveCapabilities, storedSecretNames, verifyCredentials, type ExecCatalog } from './setup.js';
import { Supervisor } from './supervise.js';
import { startWatchdog } from './watchdog.js';
import { createTeardown, type TeardownState } from './teardown.js';
import { checkSandbox, sandboxSpawn } from './sandbox-run.js';

/** Everything exec needs from other modules; injected so the orchestration can be tested. */
export interface ExecDeps {
  loadRegistry(): Registry;
  parseDotenv: DotenvParser;
  openVault(opts: { env: NodeJS.ProcessEnv }): Promise<Vault>;
  openCatalog(opts: CatalogOptions): Promise<ExecCatalog>;
  openAudit(env: NodeJS.ProcessEnv): AuditSink;
  /** Loaded lazily: exec calls it once the command is spawned (README "Start-up"). */
  startBroker: typeof startBrokerFn;
}

export interface ExecContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Launcher notices (silenced by --quiet) and errors. */
  stderr: (line: string) => void;
  /** Whether stdin is a terminal (decides the process-group mode). */
  stdinIsTTY: boolean;
  graceMs?: number;
}

/** Runs the command; resolves with the launcher's exit code. Setup failures throw (→ 125). */
export async function runExec(opts: ExecOptions, ctx: ExecContext, deps: ExecDeps): Promise<number> {
  const say = (line: string) => {
    if (!opts.quiet) ctx.stderr(line);
  };
  const argv0 = opts.command[0]!;

  // ---- setup: nothing has started yet; any throw is a 125 with one line.
  refuseInsideRun(ctx.env, 'exec');
  const sandboxReady = opts.sandbox ? checkSandbox(opts.sandbox, ctx.env) : undefined;
  const registry = deps.loadRegistry();
  const runEnv = classifyRunEnv(
    readRunEnv(opts.envFiles, opts.fromEnv, ctx.env, deps.parseDotenv, ctx.cwd),
    (name) => registry.claimantOf(name) !== undefined,
  );
  const vault = await deps.openVault({ env: ctx.env });
  const catalogOpts: CatalogOptions = {
    vault,
    registry,
    ephemeral: runEnv.ephemeral,
  };
  if (opts.workspaceId !== undefined) catalogOpts.workspaceId = opts.workspaceId;
  if (opts.groupId !== undefined) catalogOpts.groupId = opts.groupId;
  const catalog = await deps.openCatalog(catalogOpts);
  const caps = resolveCapabilities(opts.allow, catalog, () => knownCapabilityIds(registry));
  const providerIds = providersOf(caps);
  // Cheap checks now (125 before any child): each provider has a credential whose secrets are all
  // present, and the vault's key is available (a passphrase prompt can only happen here, before the
  // command owns the terminal). The records are decrypted while the command boots (verifyCredentials).
  const chosen = chooseCredentials(providerIds, catalog, opts.credential);
  if (storedSecretNames(chosen, runEnv.ephemeral).length > 0) await vault.ensureUnlocked();
  const providers = providerIds.map((id) => catalog.getProvider(id)).filter((p) => p !== undefined);
  const checked = await checkChildVars({
    passEnv: opts.passEnv,
    setEnv: opts.setEnv,
    ...(opts.setEnvOrigin ? { setEnvOrigin: opts.setEnvOrigin } : {}),
    parentEnv: ctx.env,
    runEnv,
    claimantOf: (n) => registry.claimantOf(n),
    providers,
    containsValue: (v) => vault.containsValue(v),
  });
  const pass = { values: checked.passValues, unset: checked.unset };
  for (const n of pass.unset) say(`aivault: --pass-env ${n}: not set, skipped`);
  const released = new Set(Object.keys(pass.values));
  const withheld = runEnv.withheld.filter((w) => !released.has(w.name));
  if (withheld.length) {
    say(`aivault: withheld from the command: ${withheld.map((w) => `${w.name} (${w.reason})`).join(', ')}; --pass-env NAME passes one`);
  }
  // A provider key handed to the run but not usable: say how to use it (the names, never values).
  const idle = [...runEnv.ephemeral.keys()]
    .map((n) => ({ n, p: registry.claimantOf(n)?.provider }))
    .filter((x): x is { n: string; p: string } => x.p !== undefined && !providerIds.includes(x.p));
  for (const { n, p } of idle) say(`aivault: ${n} is brokered only for ${p}, and no ${p} capability is allowed; add --allow '${p}/*' (or a single ${p}/... capability)`);
  const risky = [...new Set([...Object.keys(opts.setEnv), ...Object.keys(pass.values), ...Object.keys(runEnv.passthrough)])].filter(isRiskyName);
  if (risky.length) say(`aivault: warning: ${risky.join(', ')} can inject code into the command; set explicitly`);
  const interceptMod = opts.intercept ? await import('./intercept-env.js') : undefined;
  if (interceptMod) {
    const clash = interceptMod.refusedOverride([...Object.keys(opts.setEnv), ...Object.keys(pass.values)], providers);
    if (clash !== undefined) throw new AivaultError('usage', `${clash}: refused, --intercept sets it for the command`);
  }

  // The command is looked up in the child's PATH (which --set-env/--pass-env/--env-file may change).
  const probeEnv = buildChildEnv({
    parentEnv: ctx.env,
    baseUrl: '',
    token: '',
    runId: '',
    providers: [],
    fileEnv: runEnv.passthrough,
    passEnv: pass.values,
    setEnv: opts.setEnv,
  });
  const resolved = resolveCommand(argv0, { pathEnv: probeEnv.PATH ?? probeEnv.Path, cwd: ctx.cwd, pathExt: probeEnv.PATHEXT });
  if (!resolved.ok) {
    ctx.stderr(`aivault: ${resolved.message}`);
    return resolved.exitCode;
  }

  // ---- from here on, teardown must run on every path.
  const runId = randomUUID();
  const state: TeardownState = { runId, startedAt: Date.now(), started: false };
  const teardown = createTeardown(state);
  let broker: ExecBroker | undefined;
  let listener: BrokerListener;
  let token: string;
  let childEnv: Record<string, string>;
  let sandbox: ReturnType<typeof sandboxSpawn> | undefined;
  let startBroker: () => Promise<ExecBroker>;
  try {
    state.audit = deps.openAudit(ctx.env);
    // --sandbox: the run's private dir holds the sandbox's files (and the broker's unix socket)
    const sandboxDir = opts.sandbox ? path.join((state.tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-run-'))), 'sandbox') : undefined;
    if (sandboxDir) fs.mkdirSync(sandboxDir, { mode: 0o700 });
    const unixSocket = opts.sandbox?.net === 'broker' ? path.join(sandboxDir!, 'broker.sock') : undefined;
    // The doors open and the token exists now; the broker behind them loads while the command
    // boots (an early request waits at the door). --intercept needs the run CA first.
    try {
      listener = await openBrokerListener({ unixSocket });
    } catch (e) {
      if (isAivaultError(e)) throw e;
      throw new AivaultError('exec_setup', `cannot start the broker: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    state.listener = listener;
    const tokens = new TokenTable();
    const mint: Parameters<ExecBroker['mintToken']>[0] = { runId, capabilities: caps.map((c) => c.id) };
    if (opts.credential !== undefined) mint.credential = opts.credential;
    if (opts.workspaceId !== undefined) mint.workspaceId = opts.workspaceId;
    if (opts.groupId !== undefined) mint.groupId = opts.groupId;
    token = tokens.mint(mint);
    const audit = state.audit;
    startBroker = async () => {
      try {
        return await deps.startBroker({ catalog, audit, env: ctx.env, runId, listener, tokens });
      } catch (e) {
        if (isAivaultError(e)) throw e;
        throw new AivaultError('exec_setup', `cannot start the broker: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    };
    const baseUrl = `http://127.0.0.1:${listener.port}`;
    let isolation: Record<string, string> = {};
    if (needsIsolationDir(providerIds)) {
      state.tempDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-run-'));
      isolation = isolationEnv(providerIds, sandboxDir ? path.join(state.tempDir, 'sdk') : state.tempDir);
      if (sandboxDir) fs.mkdirSync(path.join(state.tempDir, 'sdk'), { mode: 0o700 });
    }
    if (interceptMod) {
      // SPEC §10: the run CA (in memory; its key never leaves the broker) and the proxy variables
      state.tempDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'aivault-run-'));
      state.broker = broker = await startBroker();
      const ic = await broker.enableIntercept(runId, {
        capabilities: caps.map((c) => c.id),
        egress: opts.egress,
        egressAllow: opts.egressAllow,
      });
      if (ic.hosts.length === 0) say('aivault: --intercept: no allowed capability has a fixed host; nothing will be intercepted');
      const tls = await import('node:tls');
      const files = interceptMod.writeCaFiles(state.tempDir, ic.caPem, interceptMod.systemRootsPem(tls.rootCertificates));
      isolation = { ...isolation, ...interceptMod.interceptEnv({ port: listener.port, token, ...files, providers }) };
    }
    childEnv = buildChildEnv({
      parentEnv: ctx.env,
      baseUrl,
      token,
      runId,
      providers,
      fileEnv: runEnv.passthrough,
      isolationEnv: isolation,
      passEnv: pass.values,
      setEnv: opts.setEnv,
    });
    if (sandboxReady && opts.sandbox) {
      sandbox = sandboxSpawn(sandboxReady, opts.sandbox, {
        env: ctx.env,
        cwd: ctx.cwd,
        command: opts.command,
        runDir: sandboxDir!,
        runPaths: state.tempDir ? [state.tempDir] : [],
        port: listener.port,
        socketPath: unixSocket,
        terminal: ctx.stdinIsTTY,
        childPwd: childEnv.PWD,
      });
    }
    state.audit.append({ event: 'run.started', runId, command: path.basename(argv0), capabilities: caps.map((c) => c.id), sandbox: opts.sandbox?.net ?? 'off' });
    // Fail closed: run.started is in the log file (write(2): even a SIGKILLed launcher leaves that
    // trace) before the child exists; its fdatasync runs on the thread pool while the command boots
    // (README "Start-up"), and if it fails the log fails closed like any mid-run failure.
    try {
      if (state.audit.writeSync) state.audit.writeSync();
      else if (state.audit.flushSync) state.audit.flushSync();
      else await state.audit.flush();
    } catch (e) {
      const why = isAivaultError(e) ? e.message : 'cannot write the audit log';
      throw new AivaultError('exec_setup', `${why}; refusing to run without an audit trail (AIVAULT_DISABLE_DISK_LOGS=1 turns disk logging off)`);
    }
    state.started = true;
    // Fail closed mid-run (SPEC §7): the broker refuses requests from now on; say so once.
    state.audit.onFailure?.((err) => {
      state.auditFailedMidRun ??= err.message.split('\n')[0];
      ctx.stderr(`aivault: ${state.auditFailedMidRun}; the broker refuses further requests (audit_unavailable)`);
    });
  } catch (e) {
    await teardown({ exitCode: EXIT_LAUNCHER, signal: null });
    throw e;
  }

  // ---- the child.
  const sup = new Supervisor({
    file: resolved.file,
    argv0,
    args: opts.command.slice(1),
    env: childEnv,
    cwd: ctx.cwd,
    // Windows has no process groups to signal (and `detached` would open a new console window).
    ownGroup: process.platform !== 'win32' && !ctx.stdinIsTTY,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(ctx.graceMs !== undefined ? { graceMs: ctx.graceMs } : {}),
    ...(sandbox ? { sandbox } : {}),
    say,
    error: ctx.stderr,
  });
  const onBrokerFatal = (err: Error): void => {
    ctx.stderr(`aivault: broker failed (${err.message.split('\n')[0]}), stopping the command`);
    sup.abort(EXIT_LAUNCHER);
  };
  broker?.onFatal(onBrokerFatal);
  const onUncaught = (err: unknown) => {
    ctx.stderr(`aivault: internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    sup.abort(EXIT_LAUNCHER);
    // If the launcher is too broken to finish teardown, do not hang: kill and exit.
    setTimeout(() => {
      sup.killNow();
      process.exit(EXIT_LAUNCHER);
    }, (ctx.graceMs ?? 3000) + 3000).unref();
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  // Last resort for exit paths that bypass everything above (process.exit elsewhere, fatal signals
  // the launcher does not handle): the child group dies with the launcher.
  const removeExitHook = onExit(() => sup.killNow());

  const ended = sup.start(); // spawns synchronously
  // group mode only: in terminal mode the process group is the shell's job (see watchdog.ts)
  const ownGroup = process.platform !== 'win32' && !ctx.stdinIsTTY;
  const watchdog = ownGroup && sup.pid !== undefined ? startWatchdog(sup.pid) : undefined;
  // While the command boots: load and attach the broker, then decrypt the secrets it will inject.
  // A record that does not decrypt now answers vault_locked at the broker and the run exits 125.
  let lateFailure: string | undefined;
  if (!broker && sup.pid !== undefined) {
    state.brokerReady = startBroker().then(
      (b) => {
        state.broker = b;
        b.onFatal(onBrokerFatal);
      },
      (e: unknown) => onBrokerFatal(e instanceof Error ? e : new Error(String(e))),
    );
  }
  const verified = sup.pid === undefined
    ? Promise.resolve()
    : verifyCredentials(chosen, catalog).then(
        () => undefined,
        (e: unknown) => {
          const why = isAivaultError(e) ? e.message.split('\n')[0]! : 'the vault could not be read';
          lateFailure = why;
          ctx.stderr(`aivault: ${why}; the broker refuses that provider's requests, and this run exits 125`);
        },
      );
  const outcome = await ended;
  await verified;
  if (lateFailure !== undefined) outcome.exitCode = EXIT_LAUNCHER;
  // The audit log failed while the child ran: a run that "succeeded" did so partly unaudited, so
  // it exits 125; a child that failed keeps its own code (README: audit).
  if (state.auditFailedMidRun !== undefined && outcome.exitCode === 0) outcome.exitCode = EXIT_LAUNCHER;
  await teardown({ exitCode: outcome.exitCode, signal: outcome.signal });
  watchdog?.standDown();
  if (state.auditError && state.auditFailedMidRun === undefined) ctx.stderr(`aivault: warning: ${state.auditError}; this run's audit events were not recorded`);
  removeExitHook();
  sup.dispose();
  process.removeListener('uncaughtException', onUncaught);
  process.removeListener('unhandledRejection', onUncaught);
  return outcome.exitCode;
}
