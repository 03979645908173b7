/** The real modules behind exec (see ExecDeps in run.ts). Imported only by the exec command. */
import { auditDirFromEnv, diskLogsDisabled, openAuditLog } from '../audit/log.js';
import { parseDotenv } from '../dotenv/parse.js';
import { loadRegistry } from '../registry/load.js';
import { openCatalog } from '../vault/catalog.js';
import { openVault } from '../vault/open.js';
import { startBroker } from '../broker/index.js';
import type { ExecDeps } from './run.js';

export function defaultDeps(): ExecDeps {
  return {
    loadRegistry: () => loadRegistry(),
    parseDotenv,
    openVault: (o) => openVault({ env: o.env }),
    openCatalog,
    openAudit: (env) => openAuditLog({ dir: auditDirFromEnv(env), disabled: diskLogsDisabled(env) }),
    startBroker,
  };
}
