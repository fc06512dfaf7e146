import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onsetTiming } from '../src/analysis/onsets.js';

/** The page's compiled module (dist/web): how early or late each onset was, as the page draws it. */
const { onsetOffsetsMs, timingOutliers } = (await import(new URL('../web/timing.js', import.meta.url).href)) as {
  onsetOffsetsMs(onsets: readonly number[], beats: readonly number[]): Array<number | null>;
  timingOutliers(onsets: readonly number[], beats: readonly number[], count?: number, thresholdMs?: number): Array<{ time: number; ms: number }>;
};

const beats = Array.from({ length: 16 }, (_, i) => 1 + i * 0.5); // 120 BPM from 1 s

test('signed offsets against the eighth-note grid: early is negative, late positive, and their sizes are what the API averages', () => {
  const onsets = [0.98, 1.25 + 0.04, 1.5, 2.0 - 0.07, 3.25 + 0.012];
  assert.deepEqual(onsetOffsetsMs(onsets, beats), [-20, 40, 0, -70, 12]);
  const mean = onsetOffsetsMs(onsets, beats).reduce((sum: number, ms) => sum + Math.abs(ms ?? 0), 0) / onsets.length;
  assert.equal(Number(mean.toFixed(1)), onsetTiming(onsets, beats)?.mean_offset_ms);
  assert.deepEqual(onsetOffsetsMs([1, 2], [1]), [null, null], 'no grid from one beat');
});

test('the outliers listed are the furthest beyond 30 ms, in time order, none outside the beat grid', () => {
  const onsets = [0.1, 1.0, 1.29, 1.5, 1.93, 2.5, 3.0 + 0.031, 5.0 - 0.05, 12];
  const outliers = timingOutliers(onsets, beats, 3);
  assert.deepEqual(outliers, [
    { time: 1.29, ms: 40 },
    { time: 1.93, ms: -70 },
    { time: 4.95, ms: -50 },
  ]);
  assert.deepEqual(timingOutliers([1, 1.5, 2.01], beats), []);
});
