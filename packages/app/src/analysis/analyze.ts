import { beatChromas, chordBounds, detectChords } from './chords.js';
import { loadEssentia, VectorScope, type LoadedEssentia } from './essentia.js';
import { estimateKey, type KeyAnswer } from './key.js';
import { analyzeLoudness, isSilent } from './loudness.js';
import { chooseMeter, onsetAccents, type MeterHints } from './meter.js';
import { detectNotes } from './notes.js';
import { finishEnvelope, onsetEnvelope, planSpectrogram, spectrogramFrames, type OnsetEnvelope } from './onset-envelope.js';
import { onsetTiming, pickOnsets } from './onsets.js';
import { resample } from './resample.js';
import { analyzeRhythm, beatRegularity, type Rhythm } from './rhythm.js';
import { estimateTuning } from './tuning.js';
import type { AnalysisHints, AnalysisResult, Note, ProgressEvent, Stage } from './types.js';
import type { DecodedAudio } from './decode.js';
import { Worker } from 'node:worker_threads';
import type { FramesRequest, HelperInput, HelperMessage, NotesRequest } from './helper-worker.js';
import type { Loudness } from './loudness.js';

/** Shorter recordings get no tempo: under two slow beats nothing repeats to tell one. */
export const RHYTHM_MIN_SECONDS = 1.5;
/** Shorter recordings get no onsets (a few analysis frames: no attack stands out of anything). */
export const ONSETS_MIN_SECONDS = 0.05;

/** Recordings at least this long are analysed on two threads (see analyzeAudio). */
export const SPLIT_MIN_SECONDS = 60;

type HelperAnswer<K extends HelperMessage['kind']> = Extract<HelperMessage, { kind: K }>;

interface Helper {
  /** Sends frames of a shared spectrogram to fill; settles with their loudest log-mel value. */
  frames: (request: Omit<FramesRequest, 'kind'>) => Promise<HelperAnswer<'frames'>>;
  /** Sends the onsets and the tuning; settles with the notes. */
  notes: (request: Omit<NotesRequest, 'kind'>) => Promise<HelperAnswer<'notes'>>;
  stop: () => Promise<number>;
}

/**
 * Starts the helper thread on the shared signal. It posts its progress to the main thread itself and
 * says how many events it sent (`countEvents`); each promise settles with its answer, or rejects if
 * the helper fails or dies (e.g. its WebAssembly memory cannot grow).
 */
function startHelper(input: HelperInput, countEvents: (n: number) => void): Helper {
  const worker = new Worker(new URL('./helper-worker.js', import.meta.url), { workerData: input });
  // The helper answers only what it is asked, one request at a time: every answer has its waiter.
  const waiting: Array<{ kind: HelperMessage['kind']; resolve: (m: HelperMessage) => void; reject: (e: Error) => void }> = [];
  let failure: Error | null = null;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  worker.on('message', (m: HelperMessage) => {
    countEvents(m.eventsSent);
    if (m.kind === 'error') return fail(new Error(m.message));
    const index = waiting.findIndex((w) => w.kind === m.kind);
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(m);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the helper thread exited with code ${code}`)));
  const answer = <K extends HelperMessage['kind']>(kind: K): Promise<HelperAnswer<K>> => {
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => waiting.push({ kind, resolve: (m) => resolve(m as HelperAnswer<K>), reject }));
  };
  return {
    frames: (request) => {
      worker.postMessage({ kind: 'frames', ...request } satisfies FramesRequest);
      return answer('frames');
    },
    notes: (request) => {
      worker.postMessage({ kind: 'notes', ...request } satisfies NotesRequest);
      return answer('notes');
    },
    stop: () => worker.terminate(),
  };
}

/** The onset envelope with the spectrogram's later half of the frames filled by the helper thread meanwhile (the same frames as on one). */
async function envelopeOnTwoThreads(signal: Float32Array, helper: Helper): Promise<OnsetEnvelope> {
  const plan = planSpectrogram(signal, ANALYSIS_RATE, true);
  const half = Math.floor(plan.frames / 2);
  const there = helper.frames({ plan, from: half, to: plan.frames });
  there.catch(() => {}); // awaited below; never an unhandled rejection
  const here = spectrogramFrames(plan, 0, half);
  return finishEnvelope(plan, Math.max(here, (await there).maxDb));
}

/** The rate the analysis reads the signal at (the onset spectrogram halves it; tuning, notes and chords read it as is). */
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
  // A long recording is analysed on two threads: the signal moves into shared memory and a helper
  // thread (plain JavaScript: no essentia instance to load per analysis) computes half of the
  // spectrogram's frames while this one computes the other half, then reads the notes while this
  // one measures the loudness, tracks the beats and reads the key and the chords.
  const split = options.split && !silent && seconds >= SPLIT_MIN_SECONDS;
  let signal = resampled;
  if (split) {
    signal = new Float32Array(new SharedArrayBuffer(resampled.byteLength));
    signal.set(resampled);
  }
  const helper = split ? startHelper({ requestId, signal, sampleRate: ANALYSIS_RATE }, options.countExternalEvents ?? (() => {})) : null;
  const scope = new VectorScope();
  try {
    const audioFacts = {
      format: audio.format,
      duration_seconds: Number(audio.durationSeconds.toFixed(3)),
      sample_rate: audio.sampleRate,
      channels: audio.channels,
      analysis_sample_rate: ANALYSIS_RATE,
      silent,
    };
    // DynamicComplexity reads the spectrogram's half-rate signal when there is one (see loudness.ts).
    const loudnessHere = (whole: Float32Array, wholeRate: number): Promise<Loudness> =>
      step('loudness', () => analyzeLoudness(essentia, signal, scope.keep(essentia.arrayToVector(whole)), ANALYSIS_RATE, wholeRate));
    const processing = (): AnalysisResult['processing'] => ({
      decode_ms: 0,
      algorithms_ms: algorithms,
      worker_ms: Math.round(performance.now() - started),
      wasm_heap_mb: Math.round(loaded.heapBytes() / 2 ** 20),
    });
    if (silent) {
      // Pure silence is a valid recording: an answer with nothing detected, not an error.
      return {
        audio: audioFacts,
        loudness: await loudnessHere(signal, ANALYSIS_RATE),
        tempo: { bpm: null, confidence: 0, beats: [], candidates: [] },
        key: null,
        tuning: null,
        notes: [],
        onsets: { times: [], rate_per_second: 0, timing: null },
        chords: [],
        processing: processing(),
      };
    }
    const hints = options.hints ?? {};
    // One spectral representation (log-mel spectrogram and its onset envelope) feeds onsets, tempo and beats.
    const { envelope, onsets } =
      seconds >= ONSETS_MIN_SECONDS
        ? await step('onsets', async () => {
            const computed = helper ? await envelopeOnTwoThreads(signal, helper) : onsetEnvelope(signal, ANALYSIS_RATE);
            return { envelope: computed, onsets: pickOnsets(computed.strength, computed.frameRate) };
          })
        : { envelope: null, onsets: { times: [], rate: 0 } };
    const tuning = await step('tuning', () => estimateTuning(signal, ANALYSIS_RATE, onsets.times));
    const tuningCents = tuning?.cents_from_a440 ?? 0;
    // Split, the notes are read on the helper thread while this one goes on.
    const notesHelped = helper?.notes({ onsets: onsets.times, seconds, tuningCents, wasmHeapBytes: loaded.heapBytes() }).then((answer) => {
      Object.assign(algorithms, answer.algorithms);
      return answer.notes;
    });
    notesHelped?.catch(() => {}); // awaited below; never an unhandled rejection
    const loudness = envelope ? await loudnessHere(envelope.signal, envelope.sampleRate) : await loudnessHere(signal, ANALYSIS_RATE);
    const rhythm: Rhythm =
      envelope && seconds >= RHYTHM_MIN_SECONDS ? await step('rhythm', () => analyzeRhythm(envelope, onsets.times)) : { bpm: null, confidence: 0, beats: [] };
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
      const keyOptions = { beatStarts: bounds, ...(onsets.times[0] !== undefined ? { firstOnset: onsets.times[0] } : {}), ...(hints.beatsPerBar ? { beatsPerBar: hints.beatsPerBar } : {}) };
      return { key: hinted ?? estimateKey(chromas, keyOptions), chromas };
    });
    const chords = await step('chords', () => detectChords(chromas, bounds, seconds, key));
    const notes: Note[] = notesHelped ? await notesHelped : await step('notes', () => detectNotes(signal, ANALYSIS_RATE, onsets.times, seconds, tuningCents));
    return {
      audio: audioFacts,
      loudness,
      tempo: meter
        ? { bpm: meter.bpm, confidence: Number(beatRegularity(meter.beats).toFixed(3)), beats: meter.beats, candidates: meter.candidates }
        : { ...rhythm, candidates: [] },
      key,
      tuning,
      notes,
      onsets: { times: onsets.times, rate_per_second: onsets.rate, timing: onsetTiming(onsets.times, beats) },
      chords,
      processing: processing(),
    };
  } finally {
    scope.free();
    await helper?.stop();
  }
}
