import { AivaultError, isAivaultError } from '../errors/aivault-error.js';

/** A command module: `run` returns the process exit code. */
export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

/** Lazy command table: only the module a command needs is loaded (startup time is a feature). */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  status: () => import('./commands/status.js'),
  init: () => import('./commands/init.js'),
  'rotate-master': () => import('./commands/rotate-master.js'),
  secrets: () => import('./commands/secrets.js'),
  credential: () => import('./commands/credential.js'),
  capability: () => import('./commands/capability.js'),
  invoke: () => import('./commands/invoke.js'),
  exec: () => import('./commands/exec.js'),
  audit: () => import('./commands/audit.js'),
  demo: () => import('./commands/demo.js'),
};

export const HELP = `aivault — let untrusted code use API keys without ever holding them

Usage:
  aivault status [--json]
  aivault init --provider file|env|passphrase|keychain [--key-env NAME] [--passphrase-stdin]
  aivault rotate-master
  aivault secrets create --name NAME (--value V | --value-stdin) [--scope global|workspace|group --workspace-id W --group-id G]
  aivault secrets list [--json]
  aivault secrets rotate --name NAME (--value V | --value-stdin)
  aivault secrets delete --name NAME
  aivault secrets import --env-file PATH
  aivault credential create|list|delete ...
  aivault capability list [--json] | describe ID | create ... | delete ID
  aivault invoke CAP [--method M] [--path P] [--header 'k: v']... [--body S | --body-file F] [--credential ID]
  aivault exec [--allow CAP]... [--env-file PATH]... [--from-env NAME]... [--pass-env NAME]... [--set-env N=V]...
               [--credential ID] [--timeout DURATION] [--profile NAME] [--quiet] -- COMMAND [ARGS...]
  aivault audit [--limit N] [--run RUN_ID] [--json]
  aivault demo

Exit codes: 0 ok, 1 error, 2 usage error; exec: the child's code, 124 timeout, 125 aivault failed,
126 not executable, 127 not found, 128+N killed by signal N.
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const isExec = name === 'exec';
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      process.stderr.write(HELP);
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write('0.1.0\n');
      return 0;
    }
    const load = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) throw new AivaultError('usage', `unknown command '${name}' (see aivault --help)`);
    const mod = await load();
    return await mod.run(rest);
  } catch (e) {
    return reportError(e, isExec);
  }
}

/** One line on stderr, never a stack trace. exec's own failures are 125 (SPEC §5). */
export function reportError(e: unknown, isExec: boolean): number {
  if (isAivaultError(e)) {
    process.stderr.write(`aivault: ${e.message}\n`);
    if (isExec) return 125;
    return e.code === 'usage' ? 2 : 1;
  }
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  process.stderr.write(`aivault: internal error: ${msg}\n`);
  if (process.env.AIVAULT_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return isExec ? 125 : 1;
}
