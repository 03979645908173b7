/** The real modules behind exec (see ExecDeps in run.ts). Imported only by the exec command. */
import { auditDirFromEnv, diskLogsDisabled, openAuditLog } from '../audit/log.js';
import { parseDotenv } from '../dotenv/parse.js';
import { loadRegistry } from '../registry/load.js';
import { openCatalog } from '../vault/catalog.js';
import { openVault } from '../vault/open.js';
import type { ExecDeps } from './run.js';

export function defaultDeps(): ExecDeps {
  return {
    loadRegistry: () => loadRegistry(),
    parseDotenv,
    openVault: (o) => openVault({ env: o.env }),
    openCatalog,
    openAudit: (env) => openAuditLog({ dir: auditDirFromEnv(env), disabled: diskLogsDisabled(env) }),
    // the broker (node:http handlers, the policy pipeline, undici on first use) loads after the
    // command is spawned, while it boots
    startBroker: async (o) => (await import('../broker/index.js')).startBroker(o),
  };
}
