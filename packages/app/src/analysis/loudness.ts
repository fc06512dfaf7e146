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

/** Frame of the dynamic-complexity level, seconds (essentia's DynamicComplexity default). */
const COMPLEXITY_FRAME_SECONDS = 0.2;

/**
 * Dynamic complexity (Streich 2007, as essentia's DynamicComplexity computes it, in one pass here
 * instead of a copy into WebAssembly): the signal through a first-order high-pass (a cheap B-curve),
 * its energy per 0.2 s frame smeared by a 35 ms leaky integrator, in dB; the loudness estimate
 * weights loud frames exponentially (0.9^-dB); the complexity is the mean absolute deviation of
 * the frames' dB from it.
 */
export function dynamicComplexity(signal: Float32Array, sampleRate: number): { complexity: number; loudness: number } {
  const frame = Math.floor(COMPLEXITY_FRAME_SECONDS * sampleRate);
  const frames = Math.floor(signal.length / frame);
  if (signal.length === 0 || frames === 0) return { complexity: 0, loudness: -90 };
  const c = Math.exp(-1 / (0.035 * sampleRate));
  // weight[i] = c^(frame - 1 - i): the integrator's decay over the rest of the frame; carry = c^frame.
  const weight = new Float64Array(frame);
  let carry = 1;
  for (let i = frame - 1; i >= 0; i--) {
    weight[i] = carry;
    carry *= c;
  }
  const db = new Float64Array(frames);
  let level = 0;
  let previousIn = 0;
  let previousOut = 0;
  for (let f = 0; f < frames; f++) {
    let energy = 0;
    const start = f * frame;
    for (let i = 0; i < frame; i++) {
      const x = signal[start + i]!;
      const y = start + i === 0 ? 0.98595 * x : 0.98595 * x - 0.98595 * previousIn + 0.9719 * previousOut;
      previousIn = x;
      previousOut = y;
      energy += weight[i]! * y * y;
    }
    level = carry * level + (1 - c) * energy;
    db[f] = level < 1e-10 ? -100 : 10 * Math.log10(level);
  }
  let weightSum = 0;
  let loudness = 0;
  for (let f = 0; f < frames; f++) weightSum += 0.9 ** -db[f]!;
  for (let f = 0; f < frames; f++) loudness += (0.9 ** -db[f]! / weightSum) * db[f]!;
  let complexity = 0;
  for (let f = 0; f < frames; f++) complexity += Math.abs(db[f]! - loudness);
  return { complexity: complexity / frames, loudness };
}

/** Level over time (RMS per half-second window, in dBFS) and the dynamic complexity over the whole signal. */
export function analyzeLoudness(signal: Float32Array, sampleRate: number): Loudness {
  const size = Math.round(LOUDNESS_WINDOW_SECONDS * sampleRate);
  const rmsDb: number[] = [];
  for (let start = 0; start < signal.length; start += size) {
    const end = Math.min(signal.length, start + size);
    let sum = 0;
    for (let i = start; i < end; i++) sum += (signal[i] ?? 0) ** 2;
    rmsDb.push(Number(toDb(Math.sqrt(sum / (end - start))).toFixed(1)));
  }
  const audible = rmsDb.filter((d) => d > -60).sort((a, b) => a - b);
  const complexity = dynamicComplexity(signal, sampleRate).complexity;
  return {
    window_seconds: LOUDNESS_WINDOW_SECONDS,
    rms_db: rmsDb,
    mean_db: audible.length > 0 ? Number((audible.reduce((a, b) => a + b, 0) / audible.length).toFixed(1)) : null,
    range_db: audible.length > 1 ? Number(((audible[Math.floor(audible.length * 0.95)] ?? 0) - (audible[Math.floor(audible.length * 0.05)] ?? 0)).toFixed(1)) : null,
    dynamic_complexity: Number.isFinite(complexity) ? Number(complexity.toFixed(3)) : null,
  };
}

/** True when the whole signal is below -80 dBFS. */
export function isSilent(signal: Float32Array): boolean {
  let peak = 0;
  for (let i = 0; i < signal.length; i++) {
    const v = Math.abs(signal[i] ?? 0);
    if (v > peak) peak = v;
  }
  return peak < 1e-4;
}
