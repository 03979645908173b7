/**
 * Audit log writer (SPEC §7): `<vault root>/audit/YYYY-MM-DD.jsonl` (UTC date of each event),
 * directory 0700, files 0600, append-only, one JSON object per line with `ts` first.
 *
 * Group commit (durable during a run): append() formats the line into a small in-memory queue.
 * The queue is written out as one group, with one O_APPEND write per day file, when it reaches
 * `maxLines` lines or `intervalMs` after its first line, whichever comes first. The write is a
 * synchronous write(2) into the page cache (tens of microseconds per group, never per request),
 * so a killed launcher loses nothing already written; the fdatasync that makes a group survive
 * a machine crash runs on the thread pool, one at a time (groups written while one is in flight
 * are covered by the next). So memory is bounded by `maxLines` and no request waits for the disk.
 *
 * Fail closed: the first group that cannot be written (or synced) sets `failure`, tells the
 * onFailure listeners (the broker then refuses requests with `audit_unavailable`) and stops group
 * commits. Unwritten lines are kept (up to `maxRetainedBytes`, then counted as dropped) for one
 * last attempt by flush()/flushSync() at teardown, which throws AivaultError('vault_io') when it
 * cannot write them. flush()/flushSync() write and fsync everything queued, in order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AivaultError } from '../errors/aivault-error.js';
import { formatAuditLine } from './format.js';
import { auditFileFor } from './location.js';
import type { AuditEvent, AuditSink } from './types.js';

export { formatAuditLine, sanitizeAuditValue } from './format.js';
export { auditDirFromEnv, auditFileFor, diskLogsDisabled } from './location.js';

/** The file operations the writer uses; replaceable in tests to simulate a failing disk. */
export interface AuditIo {
  mkdirSync(dir: string): void;
  /** open for append (O_WRONLY|O_APPEND|O_CREAT, mode 0600) */
  openSync(file: string): number;
  writeSync(fd: number, buf: Buffer, offset: number, length: number): number;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  fdatasyncSync(fd: number): void;
  closeSync(fd: number): void;
}

const realIo: AuditIo = {
  mkdirSync: (dir) => void fs.mkdirSync(dir, { recursive: true, mode: 0o700 }),
  openSync: (file) => fs.openSync(file, 'a', 0o600),
  writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length),
  fdatasync: (fd, cb) => fs.fdatasync(fd, cb),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
};

export interface GroupCommitOptions {
  /** A group is written at most this long after its first line (default 100 ms). */
  intervalMs?: number;
  /** ...or as soon as it holds this many lines (default 256). */
  maxLines?: number;
  /** 'group': fdatasync every group (default); 'end': only on flush()/flushSync(). */
  fsync?: 'group' | 'end';
  /** After a failure: bytes of unwritten lines kept for the last attempt (default 4 MiB). */
  maxRetainedBytes?: number;
}

export interface AuditLogStats {
  /** groups written by the timer/size trigger */
  groups: number;
  /** lines written (all paths) */
  lines: number;
  fsyncs: number;
  /** lines dropped after a failure because the retained backlog was full */
  dropped: number;
}

export interface AuditLog extends AuditSink {
  /** Synchronous flush for last-chance paths (process 'exit' handlers). Throws AivaultError('vault_io'). */
  flushSync(): void;
  writeSync(): void;
  /** Lines appended but not yet written. */
  readonly pending: number;
  readonly disabled: boolean;
  readonly failure: AivaultError | undefined;
  onFailure(cb: (err: Error) => void): void;
  readonly stats: Readonly<AuditLogStats>;
}

interface Chunk {
  file: string;
  buf: Buffer;
  lines: number;
}

export function openAuditLog(opts: { dir: string; disabled?: boolean; groupCommit?: GroupCommitOptions; io?: Partial<AuditIo> }): AuditLog {
  const root = opts.dir;
  const disabled = opts.disabled === true;
  const io: AuditIo = { ...realIo, ...opts.io };
  const intervalMs = opts.groupCommit?.intervalMs ?? 100;
  const maxLines = Math.max(1, opts.groupCommit?.maxLines ?? 256);
  const syncGroups = (opts.groupCommit?.fsync ?? 'group') === 'group';
  const maxRetained = opts.groupCommit?.maxRetainedBytes ?? 4 * 1024 * 1024;
  const stats: AuditLogStats = { groups: 0, lines: 0, fsyncs: 0, dropped: 0 };

  let queue: Array<{ file: string; line: string }> = [];
  let queuedBytes = 0;
  /** written-but-failed remainder (a failed group and everything after it), in order */
  let carry: Chunk[] = [];
  let timer: NodeJS.Timeout | undefined;
  let dirReady = false;
  let failure: AivaultError | undefined;
  const listeners: Array<(err: Error) => void> = [];

  // fdatasync bookkeeping: fds written and not yet synced; one sync round in flight at a time.
  let unsynced: Array<{ file: string; fd: number; seq: number }> = [];
  let writtenSeq = 0;
  let syncedSeq = 0;
  let syncing = false;
  let inflightUpTo = 0;
  const inflight = new Set<string>();
  let waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  /** files with written data no sync has covered yet (for flushSync) */
  const dirty = new Set<string>();

  const ioError = (e: unknown, file: string): AivaultError => {
    if (e instanceof AivaultError) return e;
    const code = (e as NodeJS.ErrnoException)?.code ?? 'error';
    return new AivaultError('vault_io', `cannot write audit log ${file} (${code})`, { file, cause: e });
  };

  const fail = (err: AivaultError): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (failure) return;
    failure = err;
    for (const cb of listeners) {
      try {
        cb(err);
      } catch {
        /* a listener's failure must not stop the others */
      }
    }
  };

  /** The queue as one buffer per day file, in order (carry first). */
  const takeChunks = (): Chunk[] => {
    const out = carry;
    carry = [];
    let cur: { file: string; parts: string[] } | undefined;
    const flushCur = (): void => {
      if (cur) out.push({ file: cur.file, buf: Buffer.from(cur.parts.join(''), 'utf8'), lines: cur.parts.length });
    };
    for (const item of queue) {
      if (!cur || cur.file !== item.file) {
        flushCur();
        cur = { file: item.file, parts: [] };
      }
      cur.parts.push(item.line);
    }
    flushCur();
    queue = [];
    queuedBytes = 0;
    return out;
  };

  /**
   * Writes chunks with one write per chunk (looping only on a short write). Returns the open fds
   * (the caller syncs and closes them). On failure: the unwritten remainder goes back to `carry`.
   */
  const writeChunks = (chunks: Chunk[]): Array<{ file: string; fd: number }> => {
    const fds: Array<{ file: string; fd: number }> = [];
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      let off = 0;
      let fd: number | undefined;
      try {
        if (!dirReady) {
          io.mkdirSync(path.join(root, 'audit'));
          dirReady = true;
        }
        fd = io.openSync(c.file);
        while (off < c.buf.length) off += io.writeSync(fd, c.buf, off, c.buf.length - off);
        fds.push({ file: c.file, fd });
        dirty.add(c.file);
        stats.lines += c.lines;
      } catch (e) {
        if (fd !== undefined) safeClose(fd);
        for (const x of fds) safeClose(x.fd); // written; a later sync of the same file covers them
        const rest = off > 0 ? { file: c.file, buf: c.buf.subarray(off), lines: c.lines } : c;
        carry = [rest, ...chunks.slice(i + 1), ...carry];
        throw ioError(e, c.file);
      }
    }
    return fds;
  };

  const safeClose = (fd: number): void => {
    try {
      io.closeSync(fd);
    } catch {
      /* nothing to do */
    }
  };

  const settleWaiters = (err?: Error): void => {
    const keep: typeof waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else if (w.seq <= syncedSeq) w.resolve();
      else keep.push(w);
    }
    waiters = keep;
  };

  /** One fdatasync round at a time, for the newest fd of each file written since the last round. */
  const kickSync = (): void => {
    if (syncing || unsynced.length === 0) return;
    const round = unsynced;
    unsynced = [];
    const upTo = round[round.length - 1]!.seq;
    const newest = new Map<string, number>();
    for (const x of round) {
      const prev = newest.get(x.file);
      if (prev !== undefined) safeClose(prev); // same file: the newer fd's sync covers its data
      newest.set(x.file, x.fd);
    }
    const files = [...newest.keys()];
    syncing = true;
    inflightUpTo = upTo;
    for (const f of files) inflight.add(f);
    let left = files.length;
    let firstErr: AivaultError | undefined;
    for (const file of files) {
      const fd = newest.get(file)!;
      io.fdatasync(fd, (err) => {
        safeClose(fd);
        stats.fsyncs++;
        if (err && !firstErr) firstErr = ioError(err, file);
        if (--left > 0) return;
        syncing = false;
        inflight.clear();
        if (firstErr) {
          fail(firstErr);
          settleWaiters(firstErr);
          for (const x of unsynced) safeClose(x.fd);
          unsynced = [];
          return;
        }
        syncedSeq = upTo;
        for (const f of files) if (!unsynced.some((x) => x.file === f)) dirty.delete(f);
        settleWaiters();
        kickSync();
      });
    }
  };

  /** Timer/size trigger: write the queue as one group (no-op after a failure). */
  const group = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (failure || queue.length === 0) return;
    let fds: Array<{ file: string; fd: number }>;
    try {
      fds = writeChunks(takeChunks());
    } catch (e) {
      fail(ioError(e, ''));
      return;
    }
    committed(fds);
  };

  /** A group is in the file: its fsync joins the next round (policy 'group'). */
  const committed = (fds: Array<{ file: string; fd: number }>): void => {
    stats.groups++;
    const seq = ++writtenSeq;
    if (syncGroups) {
      for (const x of fds) unsynced.push({ ...x, seq });
      kickSync();
    } else {
      for (const x of fds) safeClose(x.fd);
    }
  };

  return {
    disabled,
    get pending() {
      return queue.length + carry.reduce((n, c) => n + c.lines, 0);
    },
    get failure() {
      return failure;
    },
    get stats() {
      return stats;
    },
    onFailure(cb) {
      listeners.push(cb);
    },
    append(event: AuditEvent): void {
      if (disabled) return;
      const ts = new Date().toISOString();
      const line = formatAuditLine(event, ts);
      if (failure && queuedBytes + line.length > maxRetained) {
        stats.dropped++;
        return;
      }
      queue.push({ file: auditFileFor(root, ts), line });
      queuedBytes += line.length;
      if (failure) return;
      if (queue.length >= maxLines) group();
      else if (timer === undefined) {
        timer = setTimeout(group, intervalMs);
        timer.unref();
      }
    },
    flush(): Promise<void> {
      if (disabled) return Promise.resolve();
      if (timer) clearTimeout(timer);
      timer = undefined;
      let fds: Array<{ file: string; fd: number }>;
      try {
        fds = writeChunks(takeChunks());
      } catch (e) {
        const err = ioError(e, '');
        return Promise.reject(err);
      }
      // sync every file written so far, also by earlier unsynced groups ('end' policy)
      const seq = ++writtenSeq;
      for (const x of fds) unsynced.push({ ...x, seq });
      for (const f of dirty) {
        if (unsynced.some((x) => x.file === f) || inflight.has(f)) continue;
        try {
          unsynced.push({ file: f, fd: io.openSync(f), seq });
        } catch (e) {
          return Promise.reject(ioError(e, f));
        }
      }
      // wait for the newest round that covers data written so far
      const target = unsynced.length > 0 ? unsynced[unsynced.length - 1]!.seq : syncing ? inflightUpTo : 0;
      if (target <= syncedSeq) return Promise.resolve();
      const p = new Promise<void>((resolve, reject) => waiters.push({ seq: target, resolve, reject }));
      kickSync();
      return p;
    },
    writeSync(): void {
      if (disabled) return;
      if (failure) throw new AivaultError('vault_io', failure.message);
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (queue.length === 0 && carry.length === 0) return;
      committed(writeChunks(takeChunks())); // throws AivaultError, keeps the rest in carry
    },
    flushSync(): void {
      if (disabled) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const fds = writeChunks(takeChunks()); // throws AivaultError, keeps the rest in carry
      const toSync = new Map<string, number>();
      for (const x of fds) {
        const prev = toSync.get(x.file);
        if (prev !== undefined) safeClose(prev);
        toSync.set(x.file, x.fd);
      }
      for (const f of dirty) if (!toSync.has(f)) {
        try {
          toSync.set(f, io.openSync(f));
        } catch (e) {
          throw ioError(e, f);
        }
      }
      let err: AivaultError | undefined;
      for (const [file, fd] of toSync) {
        try {
          io.fdatasyncSync(fd);
          stats.fsyncs++;
          dirty.delete(file);
        } catch (e) {
          err ??= ioError(e, file);
        } finally {
          safeClose(fd);
        }
      }
      if (err) throw err;
      // everything written so far is synced now: earlier groups' fds waiting for a round can go
      for (const x of unsynced) safeClose(x.fd);
      unsynced = [];
      syncedSeq = writtenSeq;
      settleWaiters();
      if (stats.dropped > 0 && failure) {
        throw new AivaultError('vault_io', `${failure.message}; ${stats.dropped} audit line${stats.dropped === 1 ? '' : 's'} lost`);
      }
    },
  };
}
