/**
 * Teardown, on every exit path (normal, signal, timeout, launcher error, uncaught exception):
 * revoke the run's token, close the broker, append run.ended, fsync the audit log, remove the
 * run's temp dir. Each step runs even if an earlier one failed; it runs once.
 */
import fs from 'node:fs';
import type { AuditSink } from '../audit/types.js';
import type { Broker as ExecBroker } from '../broker/index.js';
import type { BrokerListener } from '../broker/listen.js';

export interface TeardownState {
  runId: string;
  startedAt: number;
  broker?: ExecBroker | undefined;
  /** The broker's doors, opened before the broker (closed here when no broker ever attached). */
  listener?: BrokerListener | undefined;
  /** Settles once the broker started after the spawn has attached (or failed to). */
  brokerReady?: Promise<void> | undefined;
  audit?: AuditSink | undefined;
  /** run.started was appended: run.ended must follow. */
  started: boolean;
  tempDir?: string | undefined;
  /** set when the audit log could not be written (the caller reports it: never silently lost) */
  auditError?: string | undefined;
  /** set when the audit log failed during the run (the broker then refused requests) */
  auditFailedMidRun?: string | undefined;
}

export interface RunEnd {
  exitCode: number;
  signal: NodeJS.Signals | null;
}

const CLOSE_DEADLINE_MS = 2000;

export function createTeardown(state: TeardownState): (end: RunEnd) => Promise<void> {
  let done: Promise<void> | undefined;
  return (end) => (done ??= run(state, end));
}

async function run(state: TeardownState, end: RunEnd): Promise<void> {
  await state.brokerReady;
  const { broker, audit } = state;
  if (!broker && state.listener) await new Promise<void>((resolve) => state.listener!.close(resolve));
  let stats = { requests: 0, denied: 0 };
  if (broker) {
    try {
      stats = broker.runStats(state.runId);
    } catch {
      /* keep zeros */
    }
    try {
      broker.revokeRun(state.runId);
    } catch {
      /* the broker is closed next anyway */
    }
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        broker.close(),
        new Promise<void>((r) => {
          timer = setTimeout(r, CLOSE_DEADLINE_MS);
          timer.unref();
        }),
      ]);
      if (timer) clearTimeout(timer);
    } catch {
      /* closing is best effort; the process exits right after */
    }
  }
  if (audit && state.started) {
    audit.append({
      event: 'run.ended',
      runId: state.runId,
      exitCode: end.exitCode,
      signal: end.signal,
      durationMs: Date.now() - state.startedAt,
      requests: stats.requests,
      denied: stats.denied,
    });
  }
  if (audit) {
    try {
      // synchronous when the sink can: the launcher exits right after, no thread-pool round trips
      if (audit.flushSync) audit.flushSync();
      else await audit.flush();
    } catch (e) {
      // reported by the caller (run.ts) on stderr; nothing else to do while exiting
      state.auditError = e instanceof Error ? e.message.split('\n')[0] : 'cannot write the audit log';
    }
  }
  if (state.tempDir) {
    try {
      fs.rmSync(state.tempDir, { recursive: true, force: true });
    } catch {
      /* temp dir left behind */
    }
  }
}
