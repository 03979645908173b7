/** One audit line (SPEC §7). Never carries a secret value, a token or a query string. */
export interface AuditEvent {
  event: string;
  runId?: string;
  [field: string]: unknown;
}

/** Where broker, exec and CLI send audit events. `ts` is added by the sink. */
export interface AuditSink {
  append(event: AuditEvent): void;
  /** Write out and fsync everything appended so far. */
  flush(): Promise<void>;
  /** Same as flush, synchronously (no thread-pool round trips: for the launcher's start and exit). */
  flushSync?(): void;
}
