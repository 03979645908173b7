/** One audit line (SPEC §7). Never carries a secret value, a token or a query string. */
export interface AuditEvent {
  event: string;
  runId?: string;
  [field: string]: unknown;
}

/** Where broker, exec and CLI send audit events. `ts` is added by the sink. */
export interface AuditSink {
  /** Queue one event; cheap, never throws, never waits for the disk. */
  append(event: AuditEvent): void;
  /** Write out and fsync everything appended so far. */
  flush(): Promise<void>;
  /** Same as flush, synchronously (no thread-pool round trips: for the launcher's start and exit). */
  flushSync?(): void;
  /**
   * Writes everything appended so far into the file now (write(2): a killed process loses none of
   * it) and starts its fsync without waiting for it; throws when the lines cannot be written. A
   * failed fsync later fails the log closed (`failure`, onFailure).
   */
  writeSync?(): void;
  /** Set once a group of lines could not be written: the log is unavailable from then on (fail closed). */
  readonly failure?: Error | undefined;
  /** Called once, when `failure` is first set. */
  onFailure?(cb: (err: Error) => void): void;
}
