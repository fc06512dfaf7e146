/**
 * One full garbage collection of the main thread a few seconds after the service goes quiet.
 *
 * An idle process allocates nothing, so V8 may never collect what the last job left. Measured by
 * bench:analyze: after a 10-minute analysis the main thread kept the upload buffer the worker's
 * exact copy was taken from (~53 MB, touched, mapped apart from the heap) as garbage, RSS 146 MB
 * flat from 0 to 60 s after the job against 85 MB before the first (1.71×); with this collection
 * 154 MB at 0 s, 94 MB at 10 s, 89 MB at 60 s (1.00×). When the work itself allocates enough
 * (bench:upload-memory's back-to-back phases), V8 collects on its own and this changes nothing.
 *
 * `begin()` marks work (a request to the analysis route, a job in the pool) and returns its end;
 * the collection runs once `delayMs` after the last piece of work ends, never while one runs, and
 * not again until more work has been done. `collect` is `globalThis.gc`, present when node runs
 * with `--expose-gc` (the image and `pnpm start` do: NODE_FLAGS); without it nothing is scheduled.
 */

export interface IdleCollection {
  /** Milliseconds the collection took. */
  ms: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
}

export interface IdleCollectorOptions {
  /** The collection itself; null (node without --expose-gc) disables the collector. */
  collect: (() => void) | null;
  delayMs: number;
  onCollected?: (collection: IdleCollection) => void;
  readRss?: () => number;
}

/** The collector the service runs with: `globalThis.gc` when node exposes it. */
export function exposedGc(): (() => void) | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  return typeof gc === 'function' ? () => gc() : null;
}

export class IdleCollector {
  private working = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly readRss: () => number;

  constructor(private readonly options: IdleCollectorOptions) {
    this.readRss = options.readRss ?? (() => process.memoryUsage.rss());
  }

  /** Whether collections run at all (node was started with --expose-gc). */
  get enabled(): boolean {
    return this.options.collect !== null;
  }

  /** Work in progress now (requests and jobs begun and not ended). */
  get busy(): number {
    return this.working;
  }

  /** Whether a collection is waiting for its delay to pass. */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  /** Marks the start of a piece of work; call the function it returns (once) when it ends. */
  begin(): () => void {
    this.working++;
    this.dirty = true;
    this.cancel();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.working--;
      if (this.working === 0) this.schedule();
    };
  }

  /** Stops a waiting collection (shutdown). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.options.collect || !this.dirty) return;
    this.cancel();
    this.timer = setTimeout(() => this.run(), this.options.delayMs);
    this.timer.unref();
  }

  private run(): void {
    this.timer = null;
    const collect = this.options.collect;
    if (!collect || this.working > 0) return;
    this.dirty = false;
    const rssBeforeBytes = this.readRss();
    const started = performance.now();
    collect();
    const ms = performance.now() - started;
    this.options.onCollected?.({ ms, rssBeforeBytes, rssAfterBytes: this.readRss() });
  }
}
