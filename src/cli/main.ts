import { AivaultError, isAivaultError } from '../errors/aivault-error.js';
import { COMMAND_HELP } from './help.js';

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
  oauth: () => import('./commands/oauth.js'),
  invoke: () => import('./commands/invoke.js'),
  exec: () => import('./commands/exec.js'),
  audit: () => import('./commands/audit.js'),
  doctor: () => import('./commands/doctor.js'),
  demo: () => import('./commands/demo.js'),
};

export const HELP = `aivault — let untrusted code use API keys without ever holding them

Usage:
  aivault status [--json]
  aivault init --provider file|env|passphrase|keychain [--key-env NAME] [--passphrase-stdin]
  aivault rotate-master [--provider P] [--key-env NAME] [--passphrase-stdin] [--new-passphrase-stdin]
  aivault secrets create --name NAME (--value V | --value-stdin | <TTY prompt>)
                         [--scope global|workspace|group --workspace-id W --group-id G]
  aivault secrets list [--json]
  aivault secrets rotate --name NAME (--value V | --value-stdin) [--scope ... ]
  aivault secrets delete --name NAME [--scope ... ]
  aivault secrets import --env-file PATH [--scope ... ]
  aivault secrets attach --name NAME --workspace-id W [--group-id G]   # global -> workspace/group
  aivault secrets detach --name NAME --workspace-id W [--group-id G]   # workspace/group -> global
  aivault credential create ID --provider P --secret NAME --host HOST
                         (--auth header --header-name H --value-template 'Bearer {{secret}}'
                          | --auth query --query-param K | --auth basic | --auth path ...
                          | --auth multi-header --header N='T'... | --auth multi-query --query N='T'...
                          | --auth oauth2 --grant client_credentials|refresh_token --token-url URL
                              --client-id-secret N [--client-secret-secret N] [--refresh-token-secret N] [--scope S]...
                          | --auth aws-sigv4 --region R --service S --access-key-id-secret N
                              --secret-access-key-secret N [--session-token-secret N]
                          | --auth hmac --hmac-algorithm sha256|sha512 --hmac-header H [--hmac-template T]
                          | --auth mtls --cert-secret N --key-secret N)
  aivault credential list [--all] [--json] | delete ID
  aivault capability list [--json] | describe ID
  aivault capability create ID --provider P --host HOST --method M... --path-prefix /p...
  aivault capability delete ID
  aivault oauth setup CREDENTIAL [--port N] [--no-listen]   # authorization code + PKCE, stores the refresh token
  aivault capability policy set ID [--rate N/min] [--max-request-bytes B] [--max-response-bytes B]
                         [--timeout DURATION] [--block-response-field PATH]...  | show ID | clear ID
  aivault invoke CAP [--method M] [--path P] [--header 'k: v']... [--body S | --body-file F|-] [--credential ID]
  aivault exec [--allow CAP]... [--credential ID] [--env-file PATH]... [--from-env NAME]...
               [--pass-env NAME]... [--set-env NAME=VALUE]... [--timeout DURATION]
               [--workspace-id W] [--group-id G] [--profile NAME] [--quiet]
               [--sandbox] [--sandbox-net=host|broker] [--sandbox-hide PATH]... [--sandbox-show PATH]...
               [--sandbox-readonly] [--sandbox-write PATH]... [--no-sandbox] -- COMMAND [ARGS...]
  aivault audit [--limit N] [--run RUN_ID] [--json] [--follow]
  aivault doctor [--json]          # sandbox availability, key provider, vault, what is exposed
  aivault demo

Environment: AIVAULT_DIR (vault root, default ~/.aivault/vault), AIVAULT_PASSPHRASE,
AIVAULT_DISABLE_DISK_LOGS=1. Human messages go to stderr; data to stdout.

Exit codes: 0 ok, 1 error, 2 usage error; exec: the child's code, 124 timeout, 125 aivault failed,
126 not executable, 127 not found, 128+N killed by signal N.
`;

/** One command's usage and flags (for `aivault CMD --help`); src/cli/help.ts. */
export function commandHelp(name: string): string {
  const own = Object.prototype.hasOwnProperty.call(COMMAND_HELP, name) ? COMMAND_HELP[name] : undefined;
  if (own !== undefined) return own;
  const lines = HELP.split('\n');
  const out: string[] = [];
  let inCmd = false;
  for (const line of lines) {
    if (line.startsWith('  aivault ')) inCmd = line.startsWith(`  aivault ${name} `) || line === `  aivault ${name}`;
    else if (!line.startsWith('    ')) inCmd = false;
    if (inCmd) out.push(line);
  }
  return out.length > 0 ? `Usage:\n${out.join('\n')}\n` : HELP;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const isExec = name === 'exec';
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      // --help is the data asked for: stdout, exit 0. No command at all is a usage error: stderr, 2.
      (name === undefined ? process.stderr : process.stdout).write(HELP);
      return name === undefined ? 2 : 0;
    }
    if (name === '--version' || name === '-v') {
      process.stdout.write('0.1.0\n');
      return 0;
    }
    const load = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!load) throw new AivaultError('usage', `unknown command '${name}' (see aivault --help)`);
    const own = rest.indexOf('--') === -1 ? rest : rest.slice(0, rest.indexOf('--'));
    if (own.includes('--help') || own.includes('-h')) {
      process.stdout.write(commandHelp(name));
      return 0;
    }
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
