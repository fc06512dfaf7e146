/** How early or late each onset was: signed distance to the nearest eighth-note point of the beat grid, as the API measures it. */

export function eighthGrid(beats: readonly number[]): number[] {
  const grid: number[] = [];
  for (let i = 0; i < beats.length; i++) {
    const b = beats[i] ?? 0;
    const next = beats[i + 1] ?? b + (b - (beats[i - 1] ?? b));
    grid.push(b, (b + next) / 2);
  }
  return grid;
}

/** Milliseconds per onset (negative: early), or null for all when there is no beat grid. */
export function onsetOffsetsMs(onsets: readonly number[], beats: readonly number[]): Array<number | null> {
  if (beats.length < 2) return onsets.map(() => null);
  const grid = eighthGrid(beats);
  let gi = 0;
  return onsets.map((t) => {
    while (gi + 1 < grid.length && Math.abs((grid[gi + 1] ?? Infinity) - t) <= Math.abs((grid[gi] ?? Infinity) - t)) gi++;
    return Math.round((t - (grid[gi] ?? t)) * 10000) / 10;
  });
}

/** The colour buckets of the onset lane, early to late. */
export const TIMING_BUCKETS = [
  { label: 'more than 60 ms early', test: (ms: number) => ms < -60, colour: '#1d4f91' },
  { label: '30–60 ms early', test: (ms: number) => ms >= -60 && ms < -30, colour: '#5b9bd5' },
  { label: 'within 30 ms', test: (ms: number) => Math.abs(ms) <= 30, colour: '#2b7a3d' },
  { label: '30–60 ms late', test: (ms: number) => ms > 30 && ms <= 60, colour: '#d9822b' },
  { label: 'more than 60 ms late', test: (ms: number) => ms > 60, colour: '#a3341f' },
] as const;

export interface Outlier {
  time: number;
  ms: number;
}

/**
 * The note starts furthest from the beat grid (more than `thresholdMs`), at most `count`, in time
 * order; onsets before the first beat or after the last are left out (no grid there to judge).
 */
export function timingOutliers(onsets: readonly number[], beats: readonly number[], count = 5, thresholdMs = 30): Outlier[] {
  if (beats.length < 2) return [];
  const offsets = onsetOffsetsMs(onsets, beats);
  const first = beats[0] ?? 0;
  const last = beats.at(-1) ?? 0;
  const eighth = (last - first) / (beats.length - 1) / 2;
  return onsets
    .map((time, i) => ({ time, ms: offsets[i] ?? 0 }))
    .filter((o) => o.time >= first - eighth / 2 && o.time <= last + eighth && Math.abs(o.ms) > thresholdMs)
    .sort((a, b) => Math.abs(b.ms) - Math.abs(a.ms))
    .slice(0, count)
    .sort((a, b) => a.time - b.time);
}
