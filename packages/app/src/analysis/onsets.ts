export interface OnsetTiming {
  mean_offset_ms: number;
  median_offset_ms: number;
  within_30ms_ratio: number;
  /** 0–1: 1 when every onset sits on the eighth-note grid, falling as the mean offset nears a sixteenth. */
  steadiness: number;
}

export interface Onsets {
  times: number[];
  rate_per_second: number;
  timing: OnsetTiming | null;
}

/** Peak picking, seconds (librosa's onset_detect defaults): a peak is the maximum of the 30 ms before it and the frame after it, */
const PRE_MAX_SECONDS = 0.03;
/** stands above the envelope's mean over 100 ms before and after it by a threshold (below), */
const AVG_SECONDS = 0.1;
/** and comes at least 30 ms after the previous onset. */
const WAIT_SECONDS = 0.03;
/**
 * The threshold above the local mean: a share of the loudest onset within LEVEL_SECONDS either side
 * (librosa normalises by the whole take's maximum; locally, a loud passage does not hide a quiet
 * one, and a note's release or a pitch bend, a tenth of the onsets around it, is not an onset),
 * and never under a share of the whole take's level (its 99.5th percentile), so room noise in a
 * silent stretch is not either.
 */
const LOCAL_DELTA = 0.1;
const GLOBAL_DELTA = 0.05;
const LEVEL_SECONDS = 2;

/**
 * Onset times from the onset-strength envelope (frame i centred at i / frameRate s): local maxima
 * that stand above the local mean, reported at the peak frame's centre. A plucked note's attack
 * builds over a few ms and its flux peaks at the frame centred on its start (on the rendered guitar
 * takes the median offset is within ±3 ms of the written note, a strum's 10–15 ms later, where its
 * middle strings sound); an instantaneous click is first seen, and peaks, at a frame centred up to
 * a hop before it (about 13 ms early).
 */
export function pickOnsets(strength: Float32Array, frameRate: number): { times: number[]; rate: number } {
  const n = strength.length;
  if (n < 3) return { times: [], rate: 0 };
  const preMax = Math.max(1, Math.round(PRE_MAX_SECONDS * frameRate));
  const avg = Math.max(1, Math.round(AVG_SECONDS * frameRate));
  const wait = Math.max(1, Math.round(WAIT_SECONDS * frameRate));
  const sorted = Float32Array.from(strength).sort();
  const level = sorted[Math.min(n - 1, Math.floor(0.995 * n))] ?? 0;
  if (!(level > 0)) return { times: [], rate: 0 };
  // The loudest onset near each frame: maxima of half-second blocks, then over the neighbouring blocks.
  const block = Math.max(1, Math.round(0.5 * frameRate));
  const blockMax = new Float32Array(Math.ceil(n / block));
  for (let i = 0; i < n; i++) blockMax[Math.floor(i / block)] = Math.max(blockMax[Math.floor(i / block)] ?? 0, strength[i] ?? 0);
  const reach = Math.ceil(LEVEL_SECONDS / 0.5);
  const nearMax = (i: number): number => {
    const b = Math.floor(i / block);
    let m = 0;
    for (let k = Math.max(0, b - reach); k <= Math.min(blockMax.length - 1, b + reach); k++) m = Math.max(m, blockMax[k] ?? 0);
    return m;
  };
  // Running sums for the local mean.
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] ?? 0) + (strength[i] ?? 0);
  const frames: number[] = [];
  let lastPeak = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = strength[i] ?? 0;
    if (v <= 0 || i - lastPeak <= wait) continue;
    let isMax = true;
    for (let j = Math.max(0, i - preMax); j <= Math.min(n - 1, i + 1) && isMax; j++) if ((strength[j] ?? 0) > v) isMax = false;
    if (!isMax) continue;
    const a = Math.max(0, i - avg);
    const b = Math.min(n, i + avg + 1);
    const localMean = ((prefix[b] ?? 0) - (prefix[a] ?? 0)) / (b - a);
    if (v < localMean + Math.max(LOCAL_DELTA * nearMax(i), GLOBAL_DELTA * level)) continue;
    lastPeak = i;
    frames.push(i);
  }
  const times = frames.map((peak) => Number((peak / frameRate).toFixed(3)));
  const seconds = n / frameRate;
  return { times, rate: Number((times.length / seconds).toFixed(3)) };
}

/** How far onsets sit from the beat grid subdivided into eighth notes. */
export function onsetTiming(onsets: readonly number[], beats: readonly number[]): OnsetTiming | null {
  if (onsets.length === 0 || beats.length < 2) return null;
  const grid: number[] = [];
  for (let i = 0; i < beats.length; i++) {
    const b = beats[i] ?? 0;
    const next = beats[i + 1] ?? b + (b - (beats[i - 1] ?? b));
    grid.push(b, (b + next) / 2);
  }
  let gi = 0;
  const offsets = onsets.map((t) => {
    while (gi + 1 < grid.length && Math.abs((grid[gi + 1] ?? Infinity) - t) <= Math.abs((grid[gi] ?? Infinity) - t)) gi++;
    return Math.abs((grid[gi] ?? t) - t) * 1000;
  });
  const sorted = [...offsets].sort((a, b) => a - b);
  const mean = offsets.reduce((a, b) => a + b, 0) / offsets.length;
  const beatMs = ((beats.at(-1) ?? 0) - (beats[0] ?? 0)) / (beats.length - 1) * 1000;
  const sixteenthMs = beatMs / 4;
  return {
    mean_offset_ms: Number(mean.toFixed(1)),
    median_offset_ms: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)),
    within_30ms_ratio: Number((offsets.filter((o) => o <= 30).length / offsets.length).toFixed(3)),
    steadiness: Number(Math.max(0, 1 - mean / sixteenthMs).toFixed(3)),
  };
}
