/**
 * The helper thread of a split analysis, on the shared signal: it fills the frames of the
 * spectrogram the analysis worker asks for (the worker fills the others meanwhile), then, once the
 * worker sends the onsets and the tuning, it reads the notes (while the worker measures the loudness, tracks the
 * beats and reads the key and chords). Plain JavaScript: starting it loads no essentia instance.
 * It posts progress straight to the main thread (PROGRESS_CHANNEL) and its result to its parent,
 * which terminates it.
 */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { PROGRESS_CHANNEL } from './progress-channel.js';
import { detectNotes } from './notes.js';
import { spectrogramFrames, type SpectrogramPlan } from './onset-envelope.js';
import type { Note, ProgressEvent, Stage } from './types.js';

export interface HelperInput {
  requestId: string;
  signal: Float32Array;
  sampleRate: number;
}

/** Frames from..to-1 of a spectrogram in shared memory to fill. */
export interface FramesRequest {
  kind: 'frames';
  plan: SpectrogramPlan;
  from: number;
  to: number;
}

/** What the analysis worker sends once it knows the onsets and the tuning. */
export interface NotesRequest {
  kind: 'notes';
  onsets: number[];
  seconds: number;
  tuningCents: number;
  /** The analysis worker's WebAssembly heap, reported with the helper's progress (the helper has none). */
  wasmHeapBytes: number;
}

/** `eventsSent`: progress events posted since the previous message. */
export type HelperMessage =
  | { kind: 'frames'; eventsSent: number; maxDb: number }
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

function step<T>(stage: Stage, wasmHeapBytes: number, run: () => T): { value: T; algorithms: Record<string, number> } {
  report({ type: 'stage', requestId: input.requestId, stage, rssBytes: process.memoryUsage.rss(), wasmHeapBytes });
  const t = performance.now();
  const value = run();
  const ms = Math.round(performance.now() - t);
  report({ type: 'algorithm', requestId: input.requestId, stage, ms, rssBytes: process.memoryUsage.rss(), wasmHeapBytes });
  return { value, algorithms: { [stage]: ms } };
}

function finish(): void {
  progress.close();
  port?.close();
}

port?.on('message', (request: FramesRequest | NotesRequest) => {
  try {
    if (request.kind === 'frames') {
      send({ kind: 'frames', eventsSent, maxDb: spectrogramFrames(request.plan, request.from, request.to) });
      return;
    }
    const { value: notes, algorithms } = step('notes', request.wasmHeapBytes, () => detectNotes(input.signal, input.sampleRate, request.onsets, request.seconds, request.tuningCents));
    send({ kind: 'notes', eventsSent, notes, algorithms });
    finish();
  } catch (err) {
    send({ kind: 'error', message: err instanceof Error ? err.message : String(err), eventsSent });
    finish();
  }
});
