import type { GuardSettings, GuardVerdict } from '../memory/guard.js';

/** What crosses the worker boundary: the job, its progress events, and the result. */

export interface AnalysisJob {
  requestId: string;
  guard: GuardSettings;
  /** Use a helper thread for rhythm, key and chords on recordings of a minute or more. */
  split: boolean;
  /** The memory holding the uploaded bytes (transferred, not copied), and where in it they lie. */
  bytes: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  maxAudioSeconds: number;
  /** Retire the worker after this job when its WebAssembly heap grew beyond this. */
  retireHeapBytes: number;
  hints?: AnalysisHints;
}

export type Stage = 'queued' | 'decode' | 'resample' | 'rhythm' | 'onsets' | 'key' | 'tuning' | 'notes' | 'meter' | 'loudness' | 'chords' | 'done';

/** What a practising musician may tell about the take: each one optional, each one used when given. */
export interface AnalysisHints {
  /** The metronome tempo the take was played to: settles half/double-tempo ambiguity. */
  bpm?: number;
  /** Beats per bar (the time signature's numerator). */
  beatsPerBar?: number;
  /** The key the piece is in: steers the chords and replaces the detected key. */
  key?: { tonic: string; scale: 'major' | 'minor' };
}

/** Posted by the worker while it works, so the main thread can log and watch memory per stage. */
export type ProgressEvent =
  | { type: 'stage'; requestId: string; stage: Stage; rssBytes: number; wasmHeapBytes: number }
  | {
      type: 'decoded';
      requestId: string;
      format: string;
      durationSeconds: number;
      sampleRate: number;
      channels: number;
      decodeMs: number;
      rssBytes: number;
    }
  | { type: 'algorithm'; requestId: string; stage: Stage; ms: number; rssBytes: number; wasmHeapBytes: number }
  /** basis: judged on the length the container declares (before decoding) or on the decoded length. */
  | { type: 'guard'; requestId: string; mode: 'warn' | 'reject'; basis: 'container' | 'decoded'; verdict: GuardVerdict };

export interface Note {
  onset: number;
  duration: number;
  midi: number;
  name: string;
  frequency_hz: number;
  confidence: number;
}

export interface Chord {
  start: number;
  end: number;
  chord: string;
  strength: number;
}

export interface AnalysisResult {
  audio: { format: string; duration_seconds: number; sample_rate: number; channels: number; analysis_sample_rate: number; silent: boolean };
  tempo: {
    bpm: number | null;
    confidence: number;
    beats: number[];
    /** The reported tempo, half and double it, with how much the evidence favoured each. */
    candidates: Array<{ bpm: number; confidence: number; relation: 'reported' | 'half' | 'double' }>;
  };
  key: { tonic: string; scale: string; name: string; strength: number; alternatives?: string[]; candidates?: Array<{ name: string; confidence: number }> } | null;
  tuning: { frequency_hz: number; cents_from_a440: number } | null;
  notes: Note[];
  onsets: {
    times: number[];
    rate_per_second: number;
    timing: { mean_offset_ms: number; median_offset_ms: number; within_30ms_ratio: number; steadiness: number } | null;
  };
  loudness: {
    window_seconds: number;
    rms_db: number[];
    mean_db: number | null;
    range_db: number | null;
    dynamic_complexity: number | null;
  };
  chords: Chord[];
  processing: { decode_ms: number; algorithms_ms: Record<string, number>; worker_ms: number; wasm_heap_mb: number };
}

/**
 * The worker's answer: a result, or a client error found in the input. `eventsPosted` counts the
 * progress events sent before it: they travel on another channel, so the main thread waits for
 * that many before it answers (nothing is logged after the request ends, nothing is lost).
 */
export type WorkerOutcome =
  | { ok: true; result: AnalysisResult; retired: boolean; eventsPosted: number }
  | {
      ok: false;
      eventsPosted: number;
      code: 'unsupported_format' | 'corrupt_audio' | 'audio_too_long' | 'analysis_out_of_memory' | 'insufficient_memory';
      message: string;
      retired: boolean;
      stage: Stage;
    };
