import { beatChromas, chordBounds, detectChords } from './chords.js';
import { loadEssentia, VectorScope, type LoadedEssentia } from './essentia.js';
import { estimateKey, type KeyAnswer } from './key.js';
import { analyzeLoudness, isSilent } from './loudness.js';
import { chooseMeter, onsetAccents, type MeterHints } from './meter.js';
import { detectNotes } from './notes.js';
import { detectOnsets, onsetTiming } from './onsets.js';
import { resample } from './resample.js';
import { analyzeRhythm, beatRegularity, type Rhythm } from './rhythm.js';
import { estimateTuning } from './tuning.js';
import type { AnalysisHints, AnalysisResult, ProgressEvent, Stage } from './types.js';
import type { DecodedAudio } from './decode.js';
import { Worker } from 'node:worker_threads';
import type { HelperInput, HelperMessage } from './helper-worker.js';

/** Shorter recordings get no tempo (below about 1.1 s RhythmExtractor2013 has too few onset frames and throws). */
export const RHYTHM_MIN_SECONDS = 1.5;
/** Shorter recordings get no onsets (OnsetRate throws "Empty vector input" below about 0.03 s). */
export const ONSETS_MIN_SECONDS = 0.05;

/** Recordings at least this long are analysed on two threads (see analyzeAudio). */
export const SPLIT_MIN_SECONDS = 60;

type HelperResult = Extract<HelperMessage, { kind: 'result' }>;

/**
 * Starts the helper thread on the shared signal. It posts its progress to the main thread itself and
 * says how many events it sent (`countEvents`); the promise settles with its result, or rejects if
 * it fails or dies (e.g. its WebAssembly memory cannot grow).
 */
function startHelper(input: HelperInput, countEvents: (n: number) => void): { result: Promise<HelperResult>; stop: () => Promise<number> } {
  const worker = new Worker(new URL('./helper-worker.js', import.meta.url), { workerData: input });
  const result = new Promise<HelperResult>((resolve, reject) => {
    worker.on('message', (m: HelperMessage) => {
      countEvents(m.eventsSent);
      if (m.kind === 'result') resolve(m);
      else reject(new Error(m.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the helper thread exited with code ${code}`)));
  });
  result.catch(() => {}); // handled by the caller; never an unhandled rejection
  return { result, stop: () => worker.terminate() };
}

/** The rate RhythmExtractor2013 and OnsetRate assume (a 48 kHz signal fed as-is read 110 BPM for 120). */
export const ANALYSIS_RATE = 44_100;

export type Progress = (event: ProgressEvent) => void;

/** What a failed essentia call means for the request: WebAssembly ran out of memory, or something else. */
export function isOutOfMemory(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /abort\(|RuntimeError: abort|Array buffer allocation failed|Invalid typed array length|out of memory|Cannot enlarge memory/i.test(text);
}

/**
 * Runs every analysis over the whole decoded signal in this thread, reporting each stage (its
 * time, the process RSS and the WebAssembly heap) through `progress`.
 */
export async function analyzeAudio(
  audio: DecodedAudio,
  requestId: string,
  progress: Progress,
  loaded: LoadedEssentia = loadEssentia(),
  options: { split: boolean; countExternalEvents?: (n: number) => void; hints?: AnalysisHints } = { split: true },
): Promise<AnalysisResult> {
  const { essentia } = loaded;
  const algorithms: Record<string, number> = {};
  const started = performance.now();
  const step = async <T>(stage: Stage, run: () => T | Promise<T>): Promise<T> => {
    progress({ type: 'stage', requestId, stage, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
    const t = performance.now();
    const value = await run();
    const ms = Math.round(performance.now() - t);
    algorithms[stage] = ms;
    progress({ type: 'algorithm', requestId, stage, ms, rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
    return value;
  };

  const resampled = await step('resample', () => resample(audio.mono, audio.sampleRate, ANALYSIS_RATE));
  const seconds = resampled.length / ANALYSIS_RATE;
  const silent = isSilent(resampled);
  // A long recording is analysed on two threads: the signal moves into shared memory, a helper
  // thread (its own essentia, its own copy in its WebAssembly heap) runs rhythm while this
  // one runs loudness, onsets, tuning and notes; chords follow here once the beat grid is settled.
  const split = options.split && !silent && seconds >= SPLIT_MIN_SECONDS;
  let signal = resampled;
  if (split) {
    signal = new Float32Array(new SharedArrayBuffer(resampled.byteLength));
    signal.set(resampled);
  }
  const helper = split ? startHelper({ requestId, signal, sampleRate: ANALYSIS_RATE }, options.countExternalEvents ?? (() => {})) : null;
  const scope = new VectorScope();
  try {
    const vector = scope.keep(essentia.arrayToVector(signal));
    const loudness = await step('loudness', () => analyzeLoudness(essentia, signal, vector, ANALYSIS_RATE));
    const base = {
      audio: {
        format: audio.format,
        duration_seconds: Number(audio.durationSeconds.toFixed(3)),
        sample_rate: audio.sampleRate,
        channels: audio.channels,
        analysis_sample_rate: ANALYSIS_RATE,
        silent,
      },
      loudness,
    };
    if (silent) {
      // Pure silence is a valid recording: an answer with nothing detected, not an error.
      return {
        ...base,
        tempo: { bpm: null, confidence: 0, beats: [], candidates: [] },
        key: null,
        tuning: null,
        notes: [],
        onsets: { times: [], rate_per_second: 0, timing: null },
        chords: [],
        processing: { decode_ms: 0, algorithms_ms: algorithms, worker_ms: Math.round(performance.now() - started), wasm_heap_mb: Math.round(loaded.heapBytes() / 2 ** 20) },
      };
    }
    const hints = options.hints ?? {};
    let rhythm: Rhythm;
    let onsets: { times: number[]; rate: number };
    if (helper) {
      onsets = await step('onsets', () => detectOnsets(essentia, scope, vector));
    } else {
      // RhythmExtractor2013 throws "Empty vector input" on about a second or less: a short take has no tempo to tell.
      rhythm = seconds >= RHYTHM_MIN_SECONDS ? await step('rhythm', () => analyzeRhythm(essentia, scope, vector)) : { bpm: null, confidence: 0, beats: [] };
      onsets = seconds >= ONSETS_MIN_SECONDS ? await step('onsets', () => detectOnsets(essentia, scope, vector)) : { times: [], rate: 0 };
    }
    const tuning = await step('tuning', () => estimateTuning(signal, ANALYSIS_RATE, onsets.times));
    const tuningCents = tuning?.cents_from_a440 ?? 0;
    const notes = await step('notes', () => detectNotes(signal, ANALYSIS_RATE, onsets.times, seconds, tuningCents));
    if (helper) {
      const helped = await helper.result;
      ({ rhythm } = helped);
      Object.assign(algorithms, helped.algorithms);
    }
    // TypeScript cannot see that both branches assigned them.
    rhythm = rhythm!;
    const meter = await step('meter', () => {
      if (rhythm.bpm === null) return null;
      const meterHints: MeterHints = { ...(hints.bpm ? { bpm: hints.bpm } : {}), ...(hints.beatsPerBar ? { beatsPerBar: hints.beatsPerBar } : {}) };
      return chooseMeter(rhythm.bpm, rhythm.beats, onsets.times, onsetAccents(signal, ANALYSIS_RATE, onsets.times), meterHints);
    });
    const beats = meter?.beats ?? rhythm.beats;
    // The key from the chroma of every beat (the chords' own measurement), then the key steers the chords.
    const bounds = chordBounds(beats, seconds);
    const { key, chromas } = await step('key', () => {
      const chromas = beatChromas(signal, ANALYSIS_RATE, bounds, tuningCents);
      const hinted: KeyAnswer | null = hints.key
        ? { tonic: hints.key.tonic, scale: hints.key.scale, name: `${hints.key.tonic} ${hints.key.scale}`, strength: 1, alternatives: [], candidates: [{ name: `${hints.key.tonic} ${hints.key.scale}`, confidence: 1 }] }
        : null;
      return { key: hinted ?? estimateKey(chromas, hints.beatsPerBar ? { beatsPerBar: hints.beatsPerBar } : {}), chromas };
    });
    const chords = await step('chords', () => detectChords(chromas, bounds, seconds, key));
    return {
      ...base,
      tempo: meter
        ? { bpm: meter.bpm, confidence: Number(beatRegularity(meter.beats).toFixed(3)), beats: meter.beats, candidates: meter.candidates }
        : { ...rhythm, candidates: [] },
      key,
      tuning,
      notes,
      onsets: { times: onsets.times, rate_per_second: onsets.rate, timing: onsetTiming(onsets.times, beats) },
      chords,
      processing: { decode_ms: 0, algorithms_ms: algorithms, worker_ms: Math.round(performance.now() - started), wasm_heap_mb: Math.round(loaded.heapBytes() / 2 ** 20) },
    };
  } finally {
    scope.free();
    await helper?.stop();
  }
}
