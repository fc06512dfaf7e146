import type { EssentiaApi, EssentiaVector } from './essentia.js';

export const LOUDNESS_WINDOW_SECONDS = 0.5;
const FLOOR_DB = -100;

export interface Loudness {
  window_seconds: number;
  rms_db: number[];
  mean_db: number | null;
  range_db: number | null;
  dynamic_complexity: number | null;
}

const toDb = (rms: number): number => (rms > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(rms)) : FLOOR_DB);

/**
 * Level over time (RMS per half-second window, in dBFS, summed here: one essentia call per window
 * cost more than the sum itself) and essentia's DynamicComplexity over the whole signal. `vector`
 * is the whole signal in essentia's memory at `vectorRate` (by default `sampleRate`): the analysis
 * passes the half-rate signal its spectrogram already decimated, which halves DynamicComplexity's
 * cost (its 0.2 s frames' loudness hardly depends on the content above 11 kHz: 4.1951 against
 * 4.1952 at full rate on a 10-minute take).
 */
export function analyzeLoudness(essentia: EssentiaApi, signal: Float32Array, vector: EssentiaVector, sampleRate: number, vectorRate = sampleRate): Loudness {
  const size = Math.round(LOUDNESS_WINDOW_SECONDS * sampleRate);
  const rmsDb: number[] = [];
  for (let start = 0; start < signal.length; start += size) {
    const end = Math.min(signal.length, start + size);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const v = signal[i]!;
      sum += v * v;
    }
    rmsDb.push(Number(toDb(Math.sqrt(sum / (end - start))).toFixed(1)));
  }
  const audible = rmsDb.filter((d) => d > -60).sort((a, b) => a - b);
  const complexity = essentia.DynamicComplexity(vector, 0.2, vectorRate);
  return {
    window_seconds: LOUDNESS_WINDOW_SECONDS,
    rms_db: rmsDb,
    mean_db: audible.length > 0 ? Number((audible.reduce((a, b) => a + b, 0) / audible.length).toFixed(1)) : null,
    range_db: audible.length > 1 ? Number(((audible[Math.floor(audible.length * 0.95)] ?? 0) - (audible[Math.floor(audible.length * 0.05)] ?? 0)).toFixed(1)) : null,
    dynamic_complexity: Number.isFinite(complexity.dynamicComplexity) ? Number(complexity.dynamicComplexity.toFixed(3)) : null,
  };
}

/** True when the whole signal is below -80 dBFS. */
export function isSilent(signal: Float32Array): boolean {
  // Stops at the first sample that is not silent.
  for (let i = 0; i < signal.length; i++) if (Math.abs(signal[i]!) >= 1e-4) return false;
  return true;
}
