import type { Stage } from '../analysis/types.js';

export interface PressureEvent {
  requestId: string;
  fileName: string;
  stage: Stage;
  rssBytes: number;
  limitBytes: number;
  percent: number;
  threshold: number;
  wasmHeapBytes: number | null;
}

interface Tracked {
  requestId: string;
  fileName: string;
  stage: Stage;
  peakRss: number;
  wasmHeapBytes: number | null;
  crossed: Set<number>;
}

export interface TrackedAnalysis {
  setStage(stage: Stage, wasmHeapBytes?: number): void;
  /** Highest RSS sampled while this analysis ran. */
  peakRss(): number;
  /** The stage it reached last. */
  stage(): Stage;
  stop(): void;
}

/**
 * Samples the process RSS every `sampleMs` while analyses run (workers are threads of this
 * process, so their WebAssembly heaps are in it) and reports the first crossing of each threshold
 * per analysis. The cost is one rusage read per tick, and nothing at all when idle.
 */
export class MemoryWatch {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private lastRss = process.memoryUsage.rss();

  constructor(
    private readonly limitBytes: number | null,
    private readonly thresholds: readonly number[],
    private readonly onPressure: (event: PressureEvent) => void,
    private readonly sampleMs = 100,
    private readonly readRss: () => number = () => process.memoryUsage.rss(),
  ) {}

  get limit(): number | null {
    return this.limitBytes;
  }

  /** The latest RSS sample (or a fresh read when idle). */
  rss(): number {
    return this.timer ? this.lastRss : this.readRss();
  }

  /** RSS over the limit, 0–1+, or null without a limit. */
  usageRatio(): number | null {
    return this.limitBytes ? this.rss() / this.limitBytes : null;
  }

  track(requestId: string, fileName: string): TrackedAnalysis {
    const entry: Tracked = { requestId, fileName, stage: 'queued', peakRss: this.readRss(), wasmHeapBytes: null, crossed: new Set() };
    this.tracked.set(requestId, entry);
    if (!this.timer) {
      this.timer = setInterval(() => this.sample(), this.sampleMs);
      this.timer.unref();
    }
    this.sample();
    return {
      setStage: (stage, wasmHeapBytes) => {
        entry.stage = stage;
        if (wasmHeapBytes !== undefined) entry.wasmHeapBytes = wasmHeapBytes;
        this.sample();
      },
      peakRss: () => entry.peakRss,
      stage: () => entry.stage,
      stop: () => {
        this.sample();
        this.tracked.delete(requestId);
        if (this.tracked.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
    };
  }

  private sample(): void {
    const rss = this.readRss();
    this.lastRss = rss;
    for (const entry of this.tracked.values()) {
      if (rss > entry.peakRss) entry.peakRss = rss;
      if (!this.limitBytes) continue;
      const percent = (rss / this.limitBytes) * 100;
      for (const threshold of this.thresholds) {
        if (percent >= threshold && !entry.crossed.has(threshold)) {
          entry.crossed.add(threshold);
          this.onPressure({
            requestId: entry.requestId,
            fileName: entry.fileName,
            stage: entry.stage,
            rssBytes: rss,
            limitBytes: this.limitBytes,
            percent,
            threshold,
            wasmHeapBytes: entry.wasmHeapBytes,
          });
        }
      }
    }
  }
}
