import { beatChromas, chordBounds, detectChords, totalChroma } from './chords.js';
import { loadEssentia, VectorScope, type LoadedEssentia } from './essentia.js';
import { analyzeKey, settleKey, type Key } from './key.js';
import { analyzeLoudness, isSilent } from './loudness.js';
import { chooseMeter, onsetAccents, type MeterHints } from './meter.js';
import { detectNotes } from './notes.js';
import { onsetEnvelope } from './onset-envelope.js';
import { onsetTiming, pickOnsets } from './onsets.js';
import { resample } from './resample.js';
import { analyzeRhythm, beatRegularity, type Rhythm } from './rhythm.js';
import { estimateTuning } from './tuning.js';
import type { AnalysisHints, AnalysisResult, ProgressEvent, Stage } from './types.js';
import type { DecodedAudio } from './decode.js';
import { Worker } from 'node:worker_threads';
import type { HelperInput, HelperMessage } from './helper-worker.js';

/** Shorter recordings get no tempo: under two slow beats nothing repeats to tell one. */
export const RHYTHM_MIN_SECONDS = 1.5;
/** Shorter recordings get no onsets (a few analysis frames: no attack stands out of anything). */
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

/** The rate the analysis reads the signal at (essentia's KeyExtractor assumes it). */
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
  // thread (its own essentia, its own copy in its WebAssembly heap) runs the key while this one runs
  // loudness, onsets, rhythm, tuning and notes; chords follow here once the beat grid is settled.
  const split = options.split && !silent && seconds >= SPLIT_MIN_SECONDS;
  let signal = resampled;
  if (split) {
    signal = new Float32Array(new SharedArrayBuffer(resampled.byteLength));
    signal.set(resampled);
  }
  const helper = split ? startHelper({ requestId, signal, sampleRate: ANALYSIS_RATE }, options.countExternalEvents ?? (() => {})) : null;
  const scope = new VectorScope();
  try {
    const loudness = await step('loudness', () => analyzeLoudness(signal, ANALYSIS_RATE));
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
    let profileKey: Key | null;
    // One spectral representation (log-mel spectrogram and its onset envelope) feeds onsets, tempo and beats.
    const { envelope, onsets } =
      seconds >= ONSETS_MIN_SECONDS
        ? await step('onsets', () => {
            const computed = onsetEnvelope(signal, ANALYSIS_RATE);
            return { envelope: computed, onsets: pickOnsets(computed.strength, computed.frameRate) };
          })
        : { envelope: null, onsets: { times: [], rate: 0 } };
    const rhythm: Rhythm =
      envelope && seconds >= RHYTHM_MIN_SECONDS ? await step('rhythm', () => analyzeRhythm(envelope, onsets.times)) : { bpm: null, confidence: 0, beats: [] };
    if (!helper) profileKey = await step('key', () => analyzeKey(essentia, scope.keep(essentia.arrayToVector(signal))));
    const tuning = await step('tuning', () => estimateTuning(signal, ANALYSIS_RATE, onsets.times));
    const tuningCents = tuning?.cents_from_a440 ?? 0;
    const notes = await step('notes', () => detectNotes(signal, ANALYSIS_RATE, onsets.times, seconds, tuningCents));
    if (helper) {
      const helped = await helper.result;
      profileKey = helped.key;
      Object.assign(algorithms, helped.algorithms);
    }
    // TypeScript cannot see that both branches assigned it.
    profileKey = profileKey!;
    const meter = await step('meter', () => {
      if (rhythm.bpm === null) return null;
      const meterHints: MeterHints = { ...(hints.bpm ? { bpm: hints.bpm } : {}), ...(hints.beatsPerBar ? { beatsPerBar: hints.beatsPerBar } : {}) };
      return chooseMeter(rhythm.bpm, rhythm.beats, onsets.times, onsetAccents(signal, ANALYSIS_RATE, onsets.times), meterHints);
    });
    const beats = meter?.beats ?? rhythm.beats;
    const { key, chords } = await step('chords', () => {
      const bounds = chordBounds(beats, seconds);
      const chromas = beatChromas(signal, ANALYSIS_RATE, bounds, tuningCents);
      const hinted = hints.key ? { tonic: hints.key.tonic, scale: hints.key.scale, name: `${hints.key.tonic} ${hints.key.scale}`, strength: 1 } : null;
      // The chords as heard settle the key's relative/parallel ambiguity; then the key steers the chords.
      const free = detectChords(chromas, bounds, seconds, null);
      const settled = hinted ? { ...hinted, alternatives: [] } : profileKey ? settleKey(profileKey, totalChroma(chromas), free) : null;
      return { key: settled, chords: settled ? detectChords(chromas, bounds, seconds, settled) : free };
    });
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
