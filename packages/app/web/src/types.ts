/** The parts of the API's answers the page reads (see the OpenAPI document at /docs). */

export interface Note {
  onset: number;
  duration: number;
  midi: number;
  name: string;
  confidence: number;
}

export interface Chord {
  start: number;
  end: number;
  chord: string;
  strength: number;
}

export interface Analysis {
  request_id: string;
  file: { name: string; size_mb: number };
  audio: { format: string; duration_seconds: number; sample_rate: number; channels: number; silent: boolean };
  tempo: { bpm: number | null; confidence: number; beats: number[] } & Record<string, unknown>;
  key: ({ name: string; strength: number } & Record<string, unknown>) | null;
  tuning: { frequency_hz: number; cents_from_a440: number } | null;
  notes: Note[];
  onsets: {
    times: number[];
    rate_per_second: number;
    timing: { mean_offset_ms: number; median_offset_ms: number; within_30ms_ratio: number; steadiness: number } | null;
  } & Record<string, unknown>;
  loudness: { window_seconds: number; rms_db: number[]; mean_db: number | null; range_db: number | null };
  chords: Chord[];
  processing: { total_ms: number; queue_ms?: number; worker_ms?: number };
}

export interface ApiErrorBody {
  error: string;
  message: string;
}

export interface ProgressMessage {
  stage: string;
  phase: 'start' | 'end';
  ms?: number;
  completed: number;
  total: number;
  percent: number;
}

export interface Hints {
  tempoBpm: number | null;
  key: string;
}
