/** Counters of what the destination did; the app exports them as metrics. */
export interface WriteStats {
  /** Lines handed to the log file (written, or held in its bounded backlog). */
  linesWritten: number;
  /** Failed write or open attempts (ENOSPC, EACCES, EROFS, a removed directory, …). */
  writeFailures: number;
  /** Lines given up because the memory held for unwritten lines reached its bound. */
  linesDropped: number;
  /** Lines cut down to fit the maximum line size. */
  linesTruncated: number;
  /** Times the file was found removed and reopened, lines written meanwhile replayed. */
  fileReopens: number;
  /** Files started by rotation. */
  rotations: number;
  /** Files of an earlier run found ending in part of a line (a write cut by a kill) and ended with a newline before appending. */
  tornLinesEnded: number;
  /** Old log files deleted by the volume budget before the sidecar had read all of them. */
  filesDroppedUnread: number;
  /** The bytes of those files the sidecar had not read: lost to the log pipeline. */
  bytesDroppedUnread: number;
  /** Old files beyond the kept count, kept because the sidecar has not finished them (at the last sweep). */
  filesWaitingForSidecar: number;
  /** Bytes waiting to be written. */
  pendingBytes: number;
  /** The last failure, e.g. `ENOSPC: no space left on device`, or null. */
  lastError: string | null;
}

export function emptyWriteStats(): WriteStats {
  return {
    linesWritten: 0,
    writeFailures: 0,
    linesDropped: 0,
    linesTruncated: 0,
    fileReopens: 0,
    rotations: 0,
    tornLinesEnded: 0,
    filesDroppedUnread: 0,
    bytesDroppedUnread: 0,
    filesWaitingForSidecar: 0,
    pendingBytes: 0,
    lastError: null,
  };
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Reports write failures on stderr at most once per interval: the first failure at once,
 * then a summary of what happened since.
 */
export class FailureReporter {
  private lastReportAt = -Infinity;
  private failuresSinceReport = 0;
  private droppedAtReport = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly print: (text: string) => void,
    private readonly stats: () => WriteStats,
  ) {}

  failure(): void {
    this.failuresSinceReport++;
    const now = Date.now();
    if (now - this.lastReportAt >= this.intervalMs) {
      this.report(now);
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.failuresSinceReport > 0) this.report(Date.now());
      }, this.intervalMs - (now - this.lastReportAt));
      this.timer.unref();
    }
  }

  private report(now: number): void {
    const s = this.stats();
    const dropped = s.linesDropped - this.droppedAtReport;
    const text =
      `[logger] ${this.failuresSinceReport} log write failure(s) since last report; last: ${s.lastError ?? 'unknown'}; ` +
      `${dropped} line(s) dropped; ${s.pendingBytes} byte(s) waiting; totals: ${s.writeFailures} failures, ${s.linesDropped} dropped\n`;
    this.lastReportAt = now;
    this.failuresSinceReport = 0;
    this.droppedAtReport = s.linesDropped;
    try {
      this.print(text);
    } catch {
      // stderr itself failing must not take the service down either
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
