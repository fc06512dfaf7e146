import { detectChords } from './chords.js';
import { loadEssentia, VectorScope, type LoadedEssentia } from './essentia.js';
import { analyzeKey } from './key.js';
import { analyzeLoudness, isSilent } from './loudness.js';
import { detectNotes } from './notes.js';
import { detectOnsets, onsetTiming } from './onsets.js';
import { resample } from './resample.js';
import { analyzeRhythm } from './rhythm.js';
import type { AnalysisResult, ProgressEvent, Stage } from './types.js';
import type { DecodedAudio } from './decode.js';

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
export async function analyzeAudio(audio: DecodedAudio, requestId: string, progress: Progress, loaded: LoadedEssentia = loadEssentia()): Promise<AnalysisResult> {
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

  const signal = await step('resample', () => resample(audio.mono, audio.sampleRate, ANALYSIS_RATE));
  const seconds = signal.length / ANALYSIS_RATE;
  const silent = isSilent(signal);
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
        tempo: { bpm: null, confidence: 0, beats: [] },
        key: null,
        tuning: null,
        notes: [],
        onsets: { times: [], rate_per_second: 0, timing: null },
        chords: [],
        processing: { decode_ms: 0, algorithms_ms: algorithms, worker_ms: Math.round(performance.now() - started), wasm_heap_mb: Math.round(loaded.heapBytes() / 2 ** 20) },
      };
    }
    const rhythm = await step('rhythm', () => analyzeRhythm(essentia, scope, vector));
    const onsets = await step('onsets', () => detectOnsets(essentia, scope, vector));
    const key = await step('key', () => analyzeKey(essentia, vector));
    const notes = await step('notes', () => detectNotes(essentia, signal, ANALYSIS_RATE, onsets.times, seconds));
    const chords = await step('chords', () => detectChords(essentia, signal, ANALYSIS_RATE, rhythm.beats, seconds));
    return {
      ...base,
      tempo: rhythm,
      key,
      tuning: notes.tuning,
      notes: notes.notes,
      onsets: { times: onsets.times, rate_per_second: onsets.rate, timing: onsetTiming(onsets.times, rhythm.beats) },
      chords,
      processing: { decode_ms: 0, algorithms_ms: algorithms, worker_ms: Math.round(performance.now() - started), wasm_heap_mb: Math.round(loaded.heapBytes() / 2 ** 20) },
    };
  } finally {
    scope.free();
  }
}
