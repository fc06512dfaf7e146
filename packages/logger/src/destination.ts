import fs from 'node:fs';
import path from 'node:path';
import pinoRoll, { type RollStream } from 'pino-roll';
import type { LogSettings } from './settings.js';
import { fitLine } from './line-limit.js';
import { Retention, type DroppedUnread, type RetentionSettings } from './retention.js';
import { claimLogOwner, type LogOwner, type OwnerOptions } from './log-owner.js';
import { FailureReporter, describeError, emptyWriteStats, type WriteStats } from './write-stats.js';
import { WriteBacklog } from './write-backlog.js';

/**
 * The file destination: pino-roll's stream in the main thread in sync mode, so a line is in the
 * kernel's page cache when the log call returns (it survives SIGKILL and an OOM kill), wrapped so
 * that no write ever throws:
 * - write errors are counted and reported at most once per interval; the unwritten bytes are kept,
 *   up to a bound (then lines are dropped and counted), and written when the condition clears;
 * - a removed file or directory is noticed within `checkIntervalMs`, recreated, and the lines
 *   written into the removed file meanwhile are written again;
 * - size rotation happens at the write that crosses the size (pino-roll alone waits for a drain
 *   that a busy sync stream does not emit until the event loop yields);
 * - old files are deleted by Retention (after each rotation and once a second), which waits for
 *   the sidecar to finish a file unless the volume budget forces it out; it also sweeps the files
 *   of dead writers of the directory.
 */

export interface LogDestinationOptions {
  settings: LogSettings;
  /** Bound on memory held for unwritten lines (default 4 MiB). */
  maxPendingBytes?: number;
  /** How often the file is checked and a failed write retried (default 250 ms). */
  checkIntervalMs?: number;
  /** At most one failure report per this interval (default 10 s). */
  reportIntervalMs?: number;
  /** Where failure reports go (default stderr). */
  report?: (text: string) => void;
  /** Called with every line after it was handed to the file (e.g. a stdout mirror). */
  mirror?: (line: string) => void;
  /** When old files go (default: keep `keepFiles`, no sidecar to wait for, budget of 20 full files). */
  retention?: RetentionSettings;
  /** Told of each file the volume budget forced out before the sidecar had read it (called outside any write). */
  onDroppedUnread?: (drop: DroppedUnread) => void;
  /** How this writer's own files are claimed in a shared directory (log-owner.ts). */
  owner?: OwnerOptions;
}

/** At most this much of a removed file is written again. */
const REPLAY_LIMIT_BYTES = 4 * 1024 * 1024;

export class LogDestination {
  private stream: RollStream | null = null;
  /** What the open stream still owes the file after a failed write (write-backlog.ts). */
  private backlog = new WriteBacklog();
  private opening: Promise<void> | null = null;
  /** Lines waiting while there is no open stream. */
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Size of the current file when it was last seen linked: bytes past it are replayed if it turns out removed. */
  private sizeSeenLinked = 0;
  /** A read descriptor on the current file, so its content stays readable if it is removed. */
  private readFd = -1;
  private closed = false;
  /** This writer's slot in the directory: its files are `<base>.<owner>.<n>.log`. */
  private owner: LogOwner | null = null;
  private readonly counters: WriteStats = emptyWriteStats();
  private readonly reporter: FailureReporter;
  private readonly timer: NodeJS.Timeout;
  private readonly maxPendingBytes: number;
  private readonly checkIntervalMs: number;
  private readonly maxLineBytes: number;
  private readonly retention: Retention;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private ticks = 0;

  private constructor(private readonly options: LogDestinationOptions) {
    this.maxPendingBytes = options.maxPendingBytes ?? 4 * 1024 * 1024;
    this.checkIntervalMs = options.checkIntervalMs ?? 250;
    this.maxLineBytes = options.settings.maxLineBytes;
    this.retention = new Retention(
      options.settings,
      options.retention ?? {
        waitForSidecar: false,
        sidecarDb: '',
        budgetBytes: 20 * options.settings.rotation.maxFileBytes,
      },
      options.owner,
    );
    const print = options.report ?? ((text: string) => process.stderr.write(text));
    this.reporter = new FailureReporter(options.reportIntervalMs ?? 10_000, print, () => this.stats());
    this.timer = setInterval(() => this.check(), this.checkIntervalMs);
    this.timer.unref();
  }

  /** Opens the destination. Never rejects: if the directory cannot be used yet, lines wait (bounded) and opening is retried. */
  static async open(options: LogDestinationOptions): Promise<LogDestination> {
    const destination = new LogDestination(options);
    await destination.tryOpen();
    await destination.sweep();
    return destination;
  }

  /** The owner part of this writer's file names, or null while the directory could not be used. */
  get ownerName(): string | null {
    return this.owner?.name ?? null;
  }

  /** The file being written, or null while none could be opened. */
  get file(): string | null {
    return this.stream?.file ?? null;
  }

  /** pino's destination interface. Never throws. */
  write(line: string): void {
    try {
      if (line.length * 3 > this.maxLineBytes && Buffer.byteLength(line) > this.maxLineBytes) {
        line = fitLine(line, this.maxLineBytes);
        this.counters.linesTruncated++;
      }
      if (this.stream) this.writeToStream(this.stream, line);
      else this.hold(line);
      this.options.mirror?.(line);
    } catch (err) {
      this.failure(err);
    }
  }

  stats(): WriteStats {
    const backlog = this.stream ? this.backlog.bytes : 0;
    return { ...this.counters, pendingBytes: this.pendingBytes + backlog };
  }

  /** Stops the checks and closes the file. Lines still unwritable at this point are counted as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sweep(); // the rotations of the last burst
    this.closed = true;
    clearInterval(this.timer);
    this.reporter.stop();
    this.closeReadFd();
    await this.opening;
    const stream = this.stream;
    this.stream = null;
    if (this.pending.length > 0) this.counters.linesDropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    if (!stream) {
      this.owner?.release();
      return;
    }
    const backlog = this.backlog;
    if (backlog.bytes > 0) this.retry(stream, backlog); // one last try
    // What is still owed now cannot be written: counted as dropped, and the stream is destroyed
    // (end() would wait for a write that keeps failing). sonic-boom's flushSync is never called:
    // on a persistent ENOSPC it spins forever.
    const unwritable = backlog.lines;
    this.counters.linesDropped += unwritable;
    await new Promise<void>((resolve) => {
      const done = (): void => resolve();
      stream.once('close', done);
      stream.once('error', done);
      try {
        if (unwritable > 0) stream.destroy();
        else stream.end();
      } catch {
        resolve();
      }
      setTimeout(done, 1000).unref();
    });
    this.owner?.release(); // last: the slot is free once the file is closed
  }

  private writeToStream(stream: RollStream, line: string): void {
    const fileBefore = stream.file;
    const backlog = this.backlog;
    const droppedBefore = this.counters.linesDropped;
    const errorsBefore = backlog.errors;
    stream.write(line);
    const accepted = this.counters.linesDropped === droppedBefore;
    if (accepted) this.counters.linesWritten++;
    if (backlog.errors === errorsBefore) backlog.settled();
    else if (accepted) backlog.failed(line);
    // A size roll is pending (pino-roll waits for 'drain'): nothing is owed, so let it happen now, at the crossing.
    if (backlog.bytes === 0 && stream.listenerCount('drain') > 0) stream.emit('drain');
    if (stream.file !== fileBefore) {
      this.counters.rotations++;
      this.sizeSeenLinked = 0;
      this.openReadFd(stream.file);
      // Not inside the write: a dropped-unread report is itself a log record.
      setImmediate(() => void this.sweep());
    }
  }

  private hold(line: string): void {
    if (this.pendingBytes + line.length > this.maxPendingBytes) {
      this.counters.linesDropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
  }

  private failure(err: unknown): void {
    this.counters.writeFailures++;
    this.counters.lastError = describeError(err);
    this.reporter.failure();
  }

  /** Applies retention now; concurrent calls coalesce into one more sweep. Never rejects. */
  sweep(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        try {
          if (!this.owner) break; // no file of its own yet
          const result = await this.retention.sweep(this.file, this.owner.name);
          this.counters.filesWaitingForSidecar = result.waiting;
          for (const drop of result.droppedUnread) {
            this.counters.filesDroppedUnread++;
            this.counters.bytesDroppedUnread += drop.bytesUnread;
            try {
              this.options.onDroppedUnread?.(drop);
            } catch {
              // a report must not stop retention
            }
          }
        } catch (err) {
          this.failure(err);
        }
      } while (this.sweepAgain && !this.closed);
    })().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private check(): void {
    if (this.closed) return;
    // Retention once a second: a sidecar that catches up lets waiting files go.
    if (++this.ticks % Math.max(1, Math.round(1000 / this.checkIntervalMs)) === 0) void this.sweep();
    const stream = this.stream;
    if (!stream) {
      void this.tryOpen();
      return;
    }
    let removed: boolean;
    let size = 0;
    try {
      const stat = fs.fstatSync(stream.fd);
      removed = stat.nlink === 0;
      size = stat.size;
    } catch {
      removed = true;
    }
    if (removed) {
      this.replaceRemovedStream(stream);
      return;
    }
    this.sizeSeenLinked = size;
    // A write failed earlier: try the backlog again.
    if (this.backlog.bytes > 0) this.retry(stream, this.backlog);
  }

  /** Asks the stream to write what it still holds (a write of nothing starts it). */
  private retry(stream: RollStream, backlog: WriteBacklog): void {
    const errorsBefore = backlog.errors;
    try {
      stream.write('');
    } catch (err) {
      this.failure(err);
      return;
    }
    if (backlog.errors === errorsBefore) backlog.settled();
  }

  /** The file (or its directory) was removed: move what it held to `pending` and open a new one. */
  private replaceRemovedStream(stream: RollStream): void {
    this.failure(Object.assign(new Error(`log file ${stream.file} was removed`), { code: 'ENOENT' }));
    const owed = this.backlog.text();
    this.backlog = new WriteBacklog();
    const replay = this.readUnconfirmed();
    this.sizeSeenLinked = 0;
    this.stream = null;
    try {
      stream.removeAllListeners('drain');
      stream.destroy();
    } catch {
      // already unusable
    }
    if (replay.length > 0) this.hold(replay);
    if (owed.length > 0) this.hold(owed);
    this.counters.fileReopens++;
    void this.tryOpen();
  }

  /** What was written into a removed file since it was last seen linked: still readable through its open descriptor. */
  private readUnconfirmed(): string {
    const fd = this.readFd;
    if (fd < 0) return '';
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size - this.sizeSeenLinked, REPLAY_LIMIT_BYTES);
      if (length <= 0) return '';
      const buffer = Buffer.alloc(length);
      const read = fs.readSync(fd, buffer, 0, length, size - length);
      let text = buffer.subarray(0, read).toString('utf8');
      // Start at a line boundary when the replay had to be cut.
      if (size - length > this.sizeSeenLinked) text = text.slice(text.indexOf('\n') + 1);
      // End at one: a line cut by a failed write is still owed by the stream, and written again whole.
      return text.slice(0, text.lastIndexOf('\n') + 1);
    } catch {
      return '';
    }
  }

  /**
   * pino-roll appends to the newest file of an earlier run. If that run was killed in the middle of
   * a write, the file ends in part of a line: end it, so the cut line stays one bad record and the
   * next record starts a line of its own.
   */
  private endTornLine(stream: RollStream): void {
    let fd = -1;
    try {
      const size = fs.fstatSync(stream.fd).size;
      if (size === 0) return;
      fd = fs.openSync(stream.file, 'r');
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] === 0x0a) return;
      const backlog = this.backlog;
      const errorsBefore = backlog.errors;
      stream.write('\n');
      if (backlog.errors === errorsBefore) backlog.settled();
      else backlog.failed('\n');
      this.counters.tornLinesEnded++;
    } catch (err) {
      this.failure(err);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  private openReadFd(file: string): void {
    this.closeReadFd();
    try {
      this.readFd = fs.openSync(file, 'r');
    } catch {
      this.readFd = -1;
    }
  }

  private closeReadFd(): void {
    if (this.readFd >= 0) {
      try {
        fs.closeSync(this.readFd);
      } catch {
        // already closed
      }
    }
    this.readFd = -1;
  }

  private tryOpen(): Promise<void> {
    if (this.opening) return this.opening;
    this.opening = this.openStream()
      .then(({ stream, backlog }) => {
        if (this.closed) {
          stream.end();
          return;
        }
        this.stream = stream;
        this.backlog = backlog;
        this.endTornLine(stream);
        // pino-roll appends to the newest file of an earlier run: what it held is not ours to replay.
        this.sizeSeenLinked = fs.fstatSync(stream.fd).size;
        this.openReadFd(stream.file);
        const waiting = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        for (const line of waiting) this.writeToStream(stream, line);
      })
      .catch((err: unknown) => this.failure(err))
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  private async openStream(): Promise<{ stream: RollStream; backlog: WriteBacklog }> {
    const { dir, file, rotation } = this.options.settings;
    fs.mkdirSync(dir, { recursive: true });
    this.owner ??= await claimLogOwner(dir, file.baseName, this.options.owner);
    const stream = await pinoRoll({
      file: path.join(dir, `${file.baseName}.${this.owner.name}.${file.extension}`),
      size: `${rotation.maxFileBytes}b`,
      ...(rotation.frequency ? { frequency: rotation.frequency, dateFormat: file.dateFormat[rotation.frequency] } : {}),
      // No `limit`: deleting old files is Retention's job, which waits for the sidecar.
      mkdir: true,
      sync: true,
      symlink: false,
      maxLength: this.maxPendingBytes,
    });
    const backlog = new WriteBacklog();
    stream.on('error', (err: unknown) => {
      backlog.errorEmitted();
      this.failure(err);
    });
    stream.on('drop', () => {
      this.counters.linesDropped++;
    });
    // sonic-boom's documented 'write' event: bytes that reached the file.
    stream.on('write', (bytes: number) => backlog.written(bytes));
    return { stream, backlog };
  }
}
