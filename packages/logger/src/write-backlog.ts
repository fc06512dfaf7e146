/**
 * What the file stream still owes: the logger's own account of the bytes it handed to pino-roll's
 * stream (sonic-boom) and the bytes sonic-boom confirmed written, through its public API only —
 * `write()` and the documented `'write'` event (bytes written to the file). No private field of
 * the stream is read.
 *
 * The stream runs with `sync: true`: a `write()` call writes everything buffered before it returns,
 * or emits `'error'` during the call and keeps the rest buffered (bounded by `maxLength`; beyond it,
 * `'drop'`). So after a call that emitted no error nothing is owed; after one that did, what is owed
 * is what was handed over minus what `'write'` confirmed, and it is the tail of the lines handed
 * over since the backlog was last empty (sonic-boom writes in order). Those lines are kept here
 * (only those not wholly written), so they can be written again elsewhere when the file is gone.
 *
 * A failed write is the rare path: only then is a line measured and kept; the common path is two
 * counters and a reset.
 */
interface KeptLine {
  readonly text: string;
  readonly bytes: number;
}

export class WriteBacklog {
  /** Bytes handed over since the backlog was last empty (counted only once a call failed). */
  private handed = 0;
  /** Bytes the stream reported written since the backlog was last empty. */
  private confirmed = 0;
  /** The lines the owed bytes come from, oldest first; the first may be partly written. */
  private readonly kept: KeptLine[] = [];
  private keptBytes = 0;
  /** Errors the stream has emitted: a write call during which this did not change wrote everything. */
  private errorCount = 0;

  /** The stream emitted `'error'`. */
  errorEmitted(): void {
    this.errorCount++;
  }

  get errors(): number {
    return this.errorCount;
  }

  /** Bytes sonic-boom reported written (its `'write'` event). */
  written(bytes: number): void {
    this.confirmed += bytes;
    if (this.kept.length > 0) this.trim();
  }

  /** A `write()` call returned without emitting an error: all that was handed over is in the file. */
  settled(): void {
    this.handed = 0;
    this.confirmed = 0;
    if (this.kept.length > 0) {
      this.kept.length = 0;
      this.keptBytes = 0;
    }
  }

  /** A `write()` call emitted an error: `line` was accepted (not dropped) and may be partly written or not at all. */
  failed(line: string): void {
    // After a settled call both counters restart at 0, so `confirmed` holds this call's written bytes.
    const bytes = Buffer.byteLength(line);
    if (bytes > 0) {
      this.kept.push({ text: line, bytes });
      this.keptBytes += bytes;
      this.handed += bytes;
    }
    this.trim();
    if (this.bytes === 0) this.settled();
  }

  /** Bytes handed over and not yet confirmed written. */
  get bytes(): number {
    return Math.max(0, this.handed - this.confirmed);
  }

  /** Lines not yet wholly written (the first may be partly in the file). */
  get lines(): number {
    return this.bytes === 0 ? 0 : this.kept.length;
  }

  /**
   * The lines not wholly written, whole: the first may have its beginning in the file already (a
   * short write at the edge of a full disk), so a copy written elsewhere starts with a whole line.
   */
  text(): string {
    return this.bytes === 0 ? '' : this.kept.map((k) => k.text).join('');
  }

  /** Drops kept lines that are wholly written. */
  private trim(): void {
    const owed = this.bytes;
    while (this.kept.length > 0 && this.keptBytes - (this.kept[0] as KeptLine).bytes >= owed) {
      this.keptBytes -= (this.kept.shift() as KeptLine).bytes;
    }
  }
}
