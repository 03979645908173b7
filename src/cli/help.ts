/**
 * `aivault CMD --help`: each command's usage and what every flag does. Printed to stdout, exit 0
 * (SPEC §4); usage *errors* stay on stderr with exit 2. The overview (`aivault --help`) is HELP in
 * main.ts.
 */

const SCOPE = `  --scope global|workspace|group   where the secret lives (default global)
  --workspace-id W      the workspace, for --scope workspace|group
  --group-id G          the group, for --scope group`;

export const COMMAND_HELP: Record<string, string> = {
  oauth: `Usage: aivault oauth setup CREDENTIAL [--port N] [--no-listen] [--timeout SECONDS] [--json]

The OAuth2 consent step for an oauth2 credential with an authorization URL (google, spotify, or
credential create --authorize-url): prints the authorization URL (PKCE S256, random state), waits
for the redirect on a listener at http://127.0.0.1:PORT/callback, or for the whole redirect URL
pasted on stdin, checks the state, exchanges the code at the credential's token endpoint and stores
the refresh token as the credential's refresh-token secret. No token is ever printed.

Options:
  --port N              listen on this port (default: a random free port)
  --no-listen           no listener: paste the redirect URL (redirect_uri http://127.0.0.1/callback)
  --timeout SECONDS     give up after this long (default 300)
  --json                machine-readable output on stdout
`,
  status: `Usage: aivault status [--json]

Shows the vault directory, the key provider, the KEK fingerprint (never the key) and counts.

Options:
  --json        machine-readable output on stdout
`,
  init: `Usage: aivault init --provider file|env|passphrase|keychain [--key-env NAME] [--passphrase-stdin] [--json]

Chooses how the vault's master key (KEK) is kept. First use auto-initialises with 'file'.

Options:
  --provider P          file: random key in ~/.aivault/keys/kek.key ($AIVAULT_DIR/kek.key when set)
                        env: base64 32-byte key in the variable named by --key-env
                        passphrase: argon2id from a passphrase (TTY prompt, --passphrase-stdin, AIVAULT_PASSPHRASE)
                        keychain: the OS keychain (needs a Secret Service on Linux)
  --key-env NAME        the variable holding the key for --provider env
  --passphrase-stdin    read the passphrase from stdin instead of prompting
  --json                machine-readable output on stdout
`,
  'rotate-master': `Usage: aivault rotate-master [--provider P] [--key-env NAME] [--passphrase-stdin] [--new-passphrase-stdin] [--json]

Wraps every secret's DEK under a new master key, all or nothing (one atomic switch).

Options:
  --provider P            move to another key provider (file, env, passphrase, keychain)
  --key-env NAME          the variable holding the new key for --provider env
  --passphrase-stdin      read the current passphrase from stdin (first line)
  --new-passphrase-stdin  read the new passphrase from stdin (next line)
  --json                  machine-readable output on stdout
`,
  secrets: `Usage:
  aivault secrets create --name NAME (--value V | --value-stdin | <TTY prompt>) [scope]
  aivault secrets list [--json]
  aivault secrets rotate --name NAME (--value V | --value-stdin) [scope]
  aivault secrets delete --name NAME [scope]
  aivault secrets import --env-file PATH [scope]
  aivault secrets attach --name NAME --workspace-id W [--group-id G]   # global -> workspace/group
  aivault secrets detach --name NAME --workspace-id W [--group-id G]   # workspace/group -> global

Values are never printed. A name a provider claims (OPENAI_API_KEY, ...) pins the secret to it.

Options:
  --name NAME           the secret's name (upper case, e.g. OPENAI_API_KEY)
  --value V             the value on the command line (visible in shell history; prefer the others)
  --value-stdin         read the value from stdin (one trailing newline is dropped)
  --env-file PATH       import every entry of a dotenv file
  --passphrase-stdin    passphrase vault: the passphrase is stdin's first line (the value follows)
  --json                machine-readable output on stdout
${SCOPE}
`,
  credential: `Usage:
  aivault credential create ID --provider P --secret NAME --host HOST
                         (--auth header --header-name H --value-template 'Bearer {{secret}}'
                          | --auth query --query-param K --value-template '{{secret}}'
                          | --auth basic [--username T] [--password T] | --auth path --path-prefix '/bot{{secret}}'
                          | --auth multi-header --header NAME='TEMPLATE'... | --auth multi-query --query NAME='TEMPLATE'...
                          | --auth oauth2 --grant client_credentials|refresh_token --token-url https://HOST/PATH
                              --client-id-secret NAME [--client-secret-secret NAME] [--refresh-token-secret NAME]
                              [--scope S]... [--client-auth basic|body]
                          | --auth aws-sigv4 --region R --service S --access-key-id-secret NAME
                              --secret-access-key-secret NAME [--session-token-secret NAME]
                          | --auth hmac --secret NAME --hmac-algorithm sha256|sha512 --hmac-header H
                              [--hmac-template T] [--hmac-value T] [--hmac-timestamp-header H]
                              [--hmac-nonce-header H] [--hmac-encoding hex|base64] [--hmac-key-encoding utf8|base64|hex]
                          | --auth mtls --cert-secret NAME --key-secret NAME)
  aivault credential list [--all] [--json] [--workspace-id W] [--group-id G]
  aivault credential delete ID

A credential binds an auth strategy and hosts to secrets (values stay in the vault).

Options:
  --provider P          the provider the credential belongs to
  --secret NAME         a secret it uses (repeatable; field=NAME for multi-secret templates)
  --host HOST           an upstream host it may be sent to (repeatable)
  --auth STRATEGY       header | query | basic | path | multi-header | multi-query | oauth2 | aws-sigv4 | hmac | mtls
  --header N='T'        multi-header: one header and its value template (repeatable)
  --query N='T'         multi-query: one query parameter and its value template (repeatable)
  --token-url URL       oauth2: the token endpoint (https; its host must be one of the credential's hosts)
  --*-secret NAME       oauth2/aws-sigv4/mtls: the vault secret holding that part (values never leave the vault)
  --hmac-template T     hmac: the signed message; {{timestamp}} {{method}} {{path}} {{bodyHash}} {{nonce}} {{body}}
                        (default: {{timestamp}}\n{{method}}\n{{path}}\n{{bodyHash}})
  --header-name H       header auth: the header to set
  --query-param K       query auth: the query parameter to set
  --value-template T    the header/parameter value, with {{secret}} where the secret goes
  --username T          basic auth: the username template (default: the one secret, or
                        {{username}} with --secret username=A --secret password=B)
  --password T          basic auth: the password template (default: empty, or {{password}})
  --path-prefix T       path auth: the prefix the broker prepends, with {{secret}}
  --all                 list built-in (provider) credentials too
  --workspace-id W      list: resolve secrets as a run in workspace W would
  --group-id G          list: resolve secrets as a run in group G would
  --json                machine-readable output on stdout
`,
  capability: `Usage:
  aivault capability list [--json]
  aivault capability describe ID [--json] [--workspace-id W] [--group-id G]
  aivault capability create ID --provider P --host HOST --method M... --path-prefix /p... [--description D]
  aivault capability delete ID
  aivault capability policy set ID [--rate N/min] [--max-request-bytes B] [--max-response-bytes B]
                                   [--timeout DURATION] [--block-response-field PATH]...
  aivault capability policy show ID | clear ID

A capability is what a run may be granted: methods and path prefixes on a provider's host.
A policy adds limits (429 rate_limited, 413 body_too_large, 504 upstream_timeout) and removes JSON
fields such as 'choices[].message.tool_calls' or 'data[].email' from JSON and SSE responses.

Options:
  --provider P          the provider (its secret and hosts apply)
  --host HOST           the upstream host (must be one of the provider's)
  --method M            an allowed HTTP method (repeatable)
  --path-prefix /p      an allowed path prefix, matched by whole segments (repeatable)
  --description D       a note shown by list/describe
  --workspace-id W      list/describe: resolve credentials as a run in workspace W would
  --group-id G          list/describe: resolve credentials as a run in group G would
  --json                machine-readable output on stdout
`,
  invoke: `Usage: aivault invoke CAP [--method M] [--path P] [--header 'k: v']... [--body S | --body-file F|-] [--credential ID]

One request through the broker, without writing code. The response body goes to stdout as it
arrives, the status line to stderr; exit 0 on 2xx, 1 otherwise.

Options:
  -X, --method M        HTTP method (default: the capability's first)
  --path P              path and query, inside the capability's prefixes (default: its first prefix)
  -H, --header 'k: v'   a request header (repeatable); auth headers are refused
  --body S              the request body; a JSON object/array without a content-type header is
                        sent as application/json
  --body-file F         the request body from a file ('-' = stdin)
  --credential ID       which credential to use when the provider has several
`,
  exec: `Usage: aivault exec [options] -- COMMAND [ARGS...]

Runs COMMAND with a scrubbed environment: a broker URL and a run token instead of keys.
The child's exit code is exec's; exec's own failures (usage included) exit 125.

Options:
  --allow CAP           grant a capability (repeatable or comma list; 'provider/*' = all of a provider's)
  --credential ID       pin the run to one credential
  --env-file PATH       dotenv file: provider keys become run-only secrets, other names go to the child
                        (secret-shaped names withheld unless --pass-env names them); repeatable
  --from-env NAME       like an env-file entry, taken from this shell's environment (CI secrets)
  --pass-env NAME       copy a variable from this environment to the child (repeatable)
  --set-env NAME=VALUE  set a variable in the child (repeatable)
  --timeout DURATION    kill the child after DURATION (500ms, 30s, 5m, 1h or seconds); exit 124
  --workspace-id W      use secrets of workspace W (most specific scope wins)
  --group-id G          use secrets of group G
  --profile NAME        read options from the 'aivault.profiles' entry of package.json / aivault.config.json
  -q, --quiet           no notices or warnings (errors still print)
  --sandbox             Linux: run COMMAND in its own namespaces (bubblewrap): the vault, its key,
                        the launcher and credential stores in $HOME are out of its reach
  --sandbox-net MODE    host (default): the host network; broker: loopback only, the broker relayed in
                        (implies --sandbox, as does every --sandbox-* option)
  --sandbox-hide PATH   hide one more path in the sandbox (repeatable)
  --sandbox-show PATH   keep a default hidden path visible (repeatable; never the vault or its key)
  --sandbox-readonly    read-only file system except the cwd, --sandbox-write paths and a private /tmp
  --sandbox-write PATH  writable under --sandbox-readonly (repeatable)
  --no-sandbox          switch off a "sandbox" set by a profile or aivault.config.json
  --intercept           the broker is also the child's HTTPS proxy (HTTPS_PROXY, a per-run CA):
                        any client reaching a granted host gets the key injected; key variables
                        hold a placeholder (e.g. GITHUB_TOKEN=ghp_<token>)
  --egress MODE         with --intercept, hosts outside the grant: allow (tunnelled, default) |
                        deny (403 host_not_allowed; the default under --sandbox-net broker)
  --egress-allow HOST   a host (or *.domain) reachable through the proxy under --egress deny (repeatable)

A passphrase vault is unlocked from AIVAULT_PASSPHRASE (never passed to the child) or a prompt
on the terminal.
`,
  audit: `Usage: aivault audit [--limit N] [--run RUN_ID] [--json] [--follow]

Prints the audit trail, newest first (secret, credential and capability changes, runs, requests).

Options:
  --limit N             at most N entries (default 50; with --follow the backlog, default 10)
  --run RUN_ID          only the lines of one run (AIVAULT_RUN_ID inside the run)
  --json                a JSON array on stdout (with --follow: one JSON object per line)
  -f, --follow          live tail: the backlog oldest first, then each event as it lands (Ctrl-C ends)
`,
  doctor: `Usage: aivault doctor [--json]

Says whether 'aivault exec --sandbox' can run here (and what to install or enable if not), which
key provider is in use, where the vault is, and what a hostile process of this user could still
reach, with and without the sandbox.

Options:
  --json        machine-readable output on stdout
`,
  demo: `Usage: aivault demo

Runs the offline demo: a throwaway vault, a local mock of api.openai.com behind a throwaway CA,
and a skill that uses a key it never sees (needs openssl).
`,
};
