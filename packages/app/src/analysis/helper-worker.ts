/**
 * The helper thread of a split analysis: rhythm over the shared signal, with its own
 * essentia instance, while the analysis worker runs loudness, onsets, tuning and notes (chords
 * follow on the worker, once the beat grid is settled). It posts
 * progress straight to the main thread (PROGRESS_CHANNEL) and its result to its parent, which
 * terminates it, so its WebAssembly memory is returned at once.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { PROGRESS_CHANNEL } from './progress-channel.js';
import { loadEssentia, VectorScope } from './essentia.js';
import { analyzeRhythm } from './rhythm.js';
import type { ProgressEvent, Stage } from './types.js';

export interface HelperInput {
  requestId: string;
  signal: Float32Array;
  sampleRate: number;
}

export type HelperMessage =
  | { kind: 'result'; eventsSent: number; rhythm: ReturnType<typeof analyzeRhythm>; algorithms: Record<string, number> }
  | { kind: 'error'; message: string; eventsSent: number };

const input = workerData as HelperInput;
const port = parentPort;

const progress = new BroadcastChannel(PROGRESS_CHANNEL);
let eventsSent = 0;

function send(message: HelperMessage): void {
  port?.postMessage(message);
}

function report(event: ProgressEvent): void {
  eventsSent++;
  progress.postMessage(event);
}

const loaded = loadEssentia();
const { essentia } = loaded;
const scope = new VectorScope();
const algorithms: Record<string, number> = {};
function step<T>(stage: Stage, run: () => T): T {
  report({ type: 'stage', requestId: input.requestId, stage, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
  const t = performance.now();
  const value = run();
  const ms = Math.round(performance.now() - t);
  algorithms[stage] = ms;
  report({ type: 'algorithm', requestId: input.requestId, stage, ms, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
  return value;
}

try {
  const vector = scope.keep(essentia.arrayToVector(input.signal));
  const rhythm = step('rhythm', () => analyzeRhythm(essentia, scope, vector));
  send({ kind: 'result', eventsSent, rhythm, algorithms });
} catch (err) {
  send({ kind: 'error', message: loaded.describe(err), eventsSent });
} finally {
  scope.free();
  progress.close();
}
