/**
 * `aivault exec [options] -- COMMAND [ARGS...]` (SPEC §5). Parses argv only; the work is in
 * src/exec. Every failure of exec itself exits 125 (reported by main's reportError).
 */
import fs from 'node:fs';
import tty from 'node:tty';
import { parse } from '../args.js';
import { AivaultError } from '../../errors/aivault-error.js';
import { loadProfile, loadProjectSandbox } from '../../exec/profile.js';
import { resolveExecOptions, type RawExecArgs } from '../../exec/options.js';
import { runExec } from '../../exec/run.js';
import { defaultDeps } from '../../exec/deps.js';

const OPTIONS = {
  allow: { type: 'string', multiple: true },
  credential: { type: 'string' },
  'pass-env': { type: 'string', multiple: true },
  'set-env': { type: 'string', multiple: true },
  'env-file': { type: 'string', multiple: true },
  'from-env': { type: 'string', multiple: true },
  timeout: { type: 'string' },
  'workspace-id': { type: 'string' },
  'group-id': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  profile: { type: 'string' },
  sandbox: { type: 'boolean' },
  'no-sandbox': { type: 'boolean' },
  'sandbox-net': { type: 'string' },
  'sandbox-hide': { type: 'string', multiple: true },
  'sandbox-show': { type: 'string', multiple: true },
  'sandbox-readonly': { type: 'boolean' },
  'sandbox-write': { type: 'string', multiple: true },
  intercept: { type: 'boolean' },
  egress: { type: 'string' },
  'egress-allow': { type: 'string', multiple: true },
} as const;

/** Splits at the first `--`: options before, the command (byte-exact) after. */
export function splitCommand(argv: string[]): { opts: string[]; command: string[] } {
  const i = argv.indexOf('--');
  if (i < 0) {
    throw new AivaultError('usage', "missing '--' before the command: aivault exec [options] -- COMMAND [ARGS...]");
  }
  return { opts: argv.slice(0, i), command: argv.slice(i + 1) };
}

export function parseExecArgv(argv: string[]): RawExecArgs {
  const { opts, command } = splitCommand(argv);
  const { values, positionals } = parse(opts, OPTIONS, true);
  if (positionals.length > 0) {
    throw new AivaultError('usage', `unexpected argument '${positionals[0]}' before '--'`);
  }
  const raw: RawExecArgs = { command };
  if (values.allow) raw.allow = values.allow;
  if (values.credential !== undefined) raw.credential = values.credential;
  if (values['pass-env']) raw.passEnv = values['pass-env'];
  if (values['set-env']) raw.setEnv = values['set-env'];
  if (values['env-file']) raw.envFile = values['env-file'];
  if (values['from-env']) raw.fromEnv = values['from-env'];
  if (values.timeout !== undefined) raw.timeout = values.timeout;
  if (values['workspace-id'] !== undefined) raw.workspaceId = values['workspace-id'];
  if (values['group-id'] !== undefined) raw.groupId = values['group-id'];
  if (values.quiet !== undefined) raw.quiet = values.quiet;
  if (values.profile !== undefined) raw.profile = values.profile;
  const sb: NonNullable<RawExecArgs['sandbox']> = {};
  if (values.sandbox !== undefined) sb.sandbox = values.sandbox;
  if (values['no-sandbox'] !== undefined) sb.noSandbox = values['no-sandbox'];
  if (values['sandbox-net'] !== undefined) sb.net = values['sandbox-net'];
  if (values['sandbox-hide']) sb.hide = values['sandbox-hide'];
  if (values['sandbox-show']) sb.show = values['sandbox-show'];
  if (values['sandbox-readonly'] !== undefined) sb.readonly = values['sandbox-readonly'];
  if (values['sandbox-write']) sb.write = values['sandbox-write'];
  if (Object.keys(sb).length) raw.sandbox = sb;
  if (values.intercept !== undefined) raw.intercept = values.intercept;
  if (values.egress !== undefined) raw.egress = values.egress;
  if (values['egress-allow']) raw.egressAllow = values['egress-allow'];
  return raw;
}

export async function run(argv: string[]): Promise<number> {
  const raw = parseExecArgv(argv);
  const cwd = process.cwd();
  const loaded = raw.profile !== undefined ? loadProfile(raw.profile, cwd) : undefined;
  const opts = resolveExecOptions(raw, loaded?.profile, loaded?.dir, cwd, loaded?.profile.sandbox === undefined ? loadProjectSandbox(cwd) : undefined);
  const code = await runExec(
    opts,
    {
      env: process.env,
      cwd,
      // Raw fd writes and isatty(0): touching process.stdin/stdout would create stream handles
      // that switch the shared fds to non-blocking mode under the child.
      stderr: (line) => writeStderr(line + '\n'),
      stdinIsTTY: tty.isatty(0),
    },
    defaultDeps(),
  );
  // Exit now: nothing of the run (sockets, timers, handlers) may keep the launcher alive.
  process.exit(code);
}

function writeStderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    /* stderr closed: nothing to report to */
  }
}
