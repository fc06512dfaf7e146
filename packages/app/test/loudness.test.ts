import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeLoudness } from '../src/analysis/loudness.js';
import { loadEssentia } from '../src/analysis/essentia.js';
import { seededRandom } from '../src/samples/random.js';

/** Noise whose level steps between loud and quiet sections. */
function sections(rate: number, levels: readonly number[], seconds: number): Float32Array {
  const random = seededRandom(5);
  const out = new Float32Array(Math.round(rate * seconds * levels.length));
  levels.forEach((level, s) => {
    for (let i = 0; i < rate * seconds; i++) out[Math.round(s * rate * seconds) + i] = level * (random() * 2 - 1);
  });
  return out;
}

function loudnessOf(signal: Float32Array, rate: number): ReturnType<typeof analyzeLoudness> {
  const { essentia } = loadEssentia();
  const vector = essentia.arrayToVector(signal);
  try {
    return analyzeLoudness(essentia, signal, vector, rate);
  } finally {
    vector.delete();
  }
}

test('stepped levels are dynamically complex, a steady tone is not; the RMS windows follow the steps', () => {
  const rate = 44_100;
  const steady = Float32Array.from({ length: rate * 4 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate));
  const stepped = loudnessOf(sections(rate, [0.5, 0.01, 0.5, 0.01], 1), rate);
  const flat = loudnessOf(steady, rate);
  assert.ok((stepped.dynamic_complexity ?? 0) > 5 * Math.max(0.1, flat.dynamic_complexity ?? 0), `${stepped.dynamic_complexity} vs ${flat.dynamic_complexity}`);
  assert.equal(stepped.rms_db.length, 8);
  // 0.5 and 0.01 uniform noise: RMS 0.289 (-10.8 dBFS) and 0.0058 (-44.8 dBFS).
  assert.ok(Math.abs((stepped.rms_db[0] ?? 0) + 10.8) < 0.5, String(stepped.rms_db[0]));
  assert.ok(Math.abs((stepped.rms_db[2] ?? 0) + 44.8) < 0.5, String(stepped.rms_db[2]));
});

test('loudness of silence and of a take shorter than a frame: finite figures, no error', () => {
  const silent = loudnessOf(new Float32Array(44_100), 44_100);
  assert.equal(silent.mean_db, null);
  assert.ok(silent.dynamic_complexity === null || Number.isFinite(silent.dynamic_complexity));
  const tiny = loudnessOf(new Float32Array(100).fill(0.1), 44_100);
  assert.ok(tiny.dynamic_complexity === null || Number.isFinite(tiny.dynamic_complexity));
  assert.equal(tiny.rms_db.length, 1);
});
