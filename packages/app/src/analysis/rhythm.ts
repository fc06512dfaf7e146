import type { EssentiaApi, EssentiaVector, VectorScope } from './essentia.js';

export interface Rhythm {
  bpm: number | null;
  /** 0–1: how regular the detected beat intervals are (RhythmExtractor2013's degara method reports none). */
  confidence: number;
  beats: number[];
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Share of beat intervals within 5 % of the median interval. */
export function beatRegularity(beats: readonly number[]): number {
  if (beats.length < 4) return 0;
  const intervals = beats.slice(1).map((b, i) => b - (beats[i] ?? 0));
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  if (median <= 0) return 0;
  return intervals.filter((d) => Math.abs(d - median) <= 0.05 * median).length / intervals.length;
}

/** Tempo and beats over the whole signal: RhythmExtractor2013, degara (a fifth of multifeature's CPU, same accuracy here). */
export function analyzeRhythm(essentia: EssentiaApi, scope: VectorScope, signal: EssentiaVector): Rhythm {
  const out = scope.keepAll(essentia.RhythmExtractor2013(signal, 208, 'degara', 40));
  const beats = Array.from(essentia.vectorToArray(out.ticks), (t) => round(t, 3));
  if (!(out.bpm > 0) || beats.length < 2) return { bpm: null, confidence: 0, beats };
  return { bpm: round(out.bpm, 2), confidence: round(beatRegularity(beats), 3), beats };
}
