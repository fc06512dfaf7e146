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
/** stands `DELTA` above the envelope's mean over 100 ms before and after it, */
const AVG_SECONDS = 0.1;
/** and comes at least 30 ms after the previous onset. */
const WAIT_SECONDS = 0.03;
/** The threshold above the local mean, as a share of the envelope's level (its 99.5th percentile, so one loud hit does not hide a quiet passage). */
const DELTA = 0.07;

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
  const delta = DELTA * level;
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
    if (v < localMean + delta) continue;
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
