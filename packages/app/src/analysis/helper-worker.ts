/**
 * The helper thread of a split analysis, on the shared signal: first the loudness (essentia's
 * DynamicComplexity over the whole signal, in its own essentia instance, while the analysis worker
 * computes the spectrogram and the onsets), then, once the worker sends the onsets and the tuning,
 * the notes (while the worker tracks the beats and reads the key and chords). It posts progress
 * straight to the main thread (PROGRESS_CHANNEL) and its results to its parent, which terminates
 * it, so its WebAssembly memory is returned at once.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { PROGRESS_CHANNEL } from './progress-channel.js';
import { loadEssentia, VectorScope } from './essentia.js';
import { analyzeLoudness, type Loudness } from './loudness.js';
import { detectNotes } from './notes.js';
import type { Note, ProgressEvent, Stage } from './types.js';

export interface HelperInput {
  requestId: string;
  signal: Float32Array;
  sampleRate: number;
}

/** What the analysis worker sends once it knows the onsets and the tuning. */
export interface NotesRequest {
  onsets: number[];
  seconds: number;
  tuningCents: number;
}

/** `eventsSent`: progress events posted since the previous message. */
export type HelperMessage =
  | { kind: 'loudness'; eventsSent: number; loudness: Loudness; algorithms: Record<string, number> }
  | { kind: 'notes'; eventsSent: number; notes: Note[]; algorithms: Record<string, number> }
  | { kind: 'error'; message: string; eventsSent: number };

const input = workerData as HelperInput;
const port = parentPort;

const progress = new BroadcastChannel(PROGRESS_CHANNEL);
let eventsSent = 0;

function send(message: HelperMessage): void {
  port?.postMessage(message);
  eventsSent = 0;
}

function report(event: ProgressEvent): void {
  eventsSent++;
  progress.postMessage(event);
}

const loaded = loadEssentia();
const { essentia } = loaded;
function step<T>(stage: Stage, run: () => T): { value: T; algorithms: Record<string, number> } {
  report({ type: 'stage', requestId: input.requestId, stage, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
  const t = performance.now();
  const value = run();
  const ms = Math.round(performance.now() - t);
  report({ type: 'algorithm', requestId: input.requestId, stage, ms, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
  return { value, algorithms: { [stage]: ms } };
}

function finish(): void {
  progress.close();
  port?.close();
}

const scope = new VectorScope();
try {
  const vector = scope.keep(essentia.arrayToVector(input.signal));
  const { value: loudness, algorithms } = step('loudness', () => analyzeLoudness(essentia, input.signal, vector, input.sampleRate));
  scope.free();
  send({ kind: 'loudness', eventsSent, loudness, algorithms });
  port?.once('message', (request: NotesRequest) => {
    try {
      const { value: notes, algorithms: noteMs } = step('notes', () => detectNotes(input.signal, input.sampleRate, request.onsets, request.seconds, request.tuningCents));
      send({ kind: 'notes', eventsSent, notes, algorithms: noteMs });
    } catch (err) {
      send({ kind: 'error', message: err instanceof Error ? err.message : String(err), eventsSent });
    } finally {
      finish();
    }
  });
} catch (err) {
  scope.free();
  send({ kind: 'error', message: loaded.describe(err), eventsSent });
  finish();
}
