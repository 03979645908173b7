/** What exec needs from the broker (src/broker, `startBroker`). */
import type { AuditSink } from '../audit/types.js';
import type { Catalog } from '../registry/types.js';

export interface MintTokenOptions {
  runId: string;
  capabilities: string[];
  credential?: string;
  workspaceId?: string;
  groupId?: string;
  ttlMs?: number;
}

export interface ExecBroker {
  port: number;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  mintToken(opts: MintTokenOptions): string;
  revokeRun(runId: string): void;
  runStats(runId: string): { requests: number; denied: number };
  onFatal(cb: (err: Error) => void): void;
  close(): Promise<void>;
}

export type StartBroker = (opts: { catalog: Catalog; audit: AuditSink; env: NodeJS.ProcessEnv }) => Promise<ExecBroker>;
