import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { PROGRESS_CHANNEL } from './progress-channel.js';
import type { GuardSettings } from '../memory/guard.js';
import type { AnalysisHints, ProgressEvent, WorkerOutcome } from './types.js';

export interface PoolOptions {
  guard: GuardSettings;
  split: boolean;
  workers: number;
  queueMax: number;
  maxAudioSeconds: number;
  retireHeapBytes: number;
  /** Marks each job as work in progress (the idle collector); returns the job's end. */
  beginWork?: () => () => void;
}

/** Why a task did not produce an outcome. */
export type PoolFailure = 'queue_full' | 'aborted' | 'worker_died' | 'failed';

export class PoolError extends Error {
  override readonly name = 'PoolError';
  constructor(
    readonly reason: PoolFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * How long a worker may sit idle before piscina shuts it down. Its WebAssembly heap never shrinks
 * and its isolate keeps the last job's buffers until a collection that an idle thread never runs,
 * so the memory goes back to the system only when the thread ends; the next upload after a quiet
 * spell starts a fresh worker (essentia loads in ~0.5 s).
 */
export const WORKER_IDLE_MS = 30_000;

/**
 * The analysis worker pool (piscina): `workers` threads, at most `queueMax` uploads waiting.
 * Progress events from the workers are handed to `onProgress` on the main thread.
 */
export class AnalysisPool {
  private readonly piscina: Piscina;
  private active = 0;
  private readonly controllers = new Set<AbortController>();
  private readonly helperProgress: BroadcastChannel;

  constructor(
    private readonly options: PoolOptions,
    onProgress: (event: ProgressEvent) => void,
  ) {
    this.piscina = new Piscina({
      filename: workerFile,
      minThreads: 0,
      maxThreads: options.workers,
      maxQueue: Math.max(1, options.queueMax),
      concurrentTasksPerWorker: 1,
      idleTimeout: WORKER_IDLE_MS,
      // Idle workers must keep their event loop running: a retiring worker exits from a timer after
      // answering. (piscina's default parks idle workers in Atomics.wait; for multi-second jobs the
      // faster hand-off it buys is irrelevant.)
      atomics: 'disabled',
    });
    this.piscina.on('message', (message: ProgressEvent) => onProgress(message));
    // Split analyses' helper threads post their progress here directly.
    this.helperProgress = new BroadcastChannel(PROGRESS_CHANNEL);
    this.helperProgress.onmessage = (event) => onProgress((event as { data: ProgressEvent }).data);
    this.helperProgress.unref();
    // A worker that exits between tasks (retirement) is replaced by piscina; nothing to report.
    this.piscina.on('error', () => {});
  }

  /** Analyses running now. */
  get running(): number {
    return Math.min(this.active, this.options.workers);
  }

  /** Uploads waiting for a worker. */
  get queued(): number {
    return Math.max(0, this.active - this.options.workers);
  }

  get workers(): number {
    return this.options.workers;
  }

  /** The worker threads alive now. */
  get threads(): readonly import('node:worker_threads').Worker[] {
    return this.piscina.threads;
  }

  /** Whether one more upload may be accepted now. */
  hasRoom(): boolean {
    return this.active < this.options.workers + this.options.queueMax;
  }

  /**
   * `bytes`' whole ArrayBuffer moves to the worker (no copy): it must be the caller's alone, as
   * the upload buffer's is (never a view into Node's shared pool of small Buffers).
   */
  async run(requestId: string, bytes: Uint8Array, hints?: AnalysisHints): Promise<WorkerOutcome> {
    const memory = bytes.buffer;
    if (!(memory instanceof ArrayBuffer)) throw new TypeError('the upload must lie in an ArrayBuffer of its own');
    if (!this.hasRoom()) throw new PoolError('queue_full', 'the analysis queue is full');
    const controller = new AbortController();
    this.controllers.add(controller);
    this.active++;
    const endWork = this.options.beginWork?.();
    try {
      return (await this.piscina.run(
        { requestId, bytes: memory, byteOffset: bytes.byteOffset, byteLength: bytes.byteLength, guard: this.options.guard, split: this.options.split, maxAudioSeconds: this.options.maxAudioSeconds, retireHeapBytes: this.options.retireHeapBytes, ...(hints ? { hints } : {}) },
        { transferList: [memory], signal: controller.signal },
      )) as WorkerOutcome;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (controller.signal.aborted) throw new PoolError('aborted', 'the analysis was stopped because the service is shutting down', { cause: err });
      if (/queue is at limit|No task queue available/i.test(message)) throw new PoolError('queue_full', 'the analysis queue is full', { cause: err });
      if (/worker exited|terminated|ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(message)) {
        throw new PoolError('worker_died', `the analysis worker died: ${message}`, { cause: err });
      }
      throw new PoolError('failed', message, { cause: err });
    } finally {
      this.active--;
      this.controllers.delete(controller);
      endWork?.();
    }
  }

  /** Stops every running and waiting analysis. */
  abortAll(): void {
    for (const controller of this.controllers) controller.abort();
  }

  async close(): Promise<void> {
    this.abortAll();
    await this.piscina.destroy();
    this.helperProgress.close();
  }
}
