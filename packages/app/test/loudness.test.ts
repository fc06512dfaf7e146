import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dynamicComplexity, analyzeLoudness } from '../src/analysis/loudness.js';
import { loadEssentia } from '../src/analysis/essentia.js';
import { seededRandom } from '../src/samples/random.js';

/** Noise whose level steps between loud and quiet sections, and a steady tone. */
function sections(rate: number, levels: readonly number[], seconds: number): Float32Array {
  const random = seededRandom(5);
  const out = new Float32Array(Math.round(rate * seconds * levels.length));
  levels.forEach((level, s) => {
    for (let i = 0; i < rate * seconds; i++) out[Math.round(s * rate * seconds) + i] = level * (random() * 2 - 1);
  });
  return out;
}

test('the dynamic complexity matches essentia.js DynamicComplexity on steady and stepped levels', () => {
  const { essentia } = loadEssentia();
  const rate = 44_100;
  const steady = Float32Array.from({ length: rate * 3 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate));
  const cases = [
    { signal: steady, sampleRate: rate },
    { signal: sections(rate, [0.5, 0.05, 0.3, 0.01], 1.5), sampleRate: rate },
    { signal: sections(22_050, [0.2, 0.6], 2), sampleRate: 22_050 },
  ];
  for (const { signal, sampleRate } of cases) {
    const vector = essentia.arrayToVector(signal);
    try {
      const theirs = essentia.DynamicComplexity(vector, 0.2, sampleRate);
      const ours = dynamicComplexity(signal, sampleRate);
      assert.ok(Math.abs(ours.complexity - theirs.dynamicComplexity) < 0.01 + 0.001 * theirs.dynamicComplexity, `${ours.complexity} vs ${theirs.dynamicComplexity}`);
      assert.ok(Math.abs(ours.loudness - theirs.loudness) < 0.01, `${ours.loudness} vs ${theirs.loudness}`);
    } finally {
      vector.delete();
    }
  }
  // Stepped levels are complex, a steady tone is not.
  assert.ok(dynamicComplexity(sections(rate, [0.5, 0.01], 2), rate).complexity > 5 * Math.max(0.1, dynamicComplexity(steady, rate).complexity));
});

test('loudness of silence and of a take shorter than a frame: finite figures, no error', () => {
  const silent = analyzeLoudness(new Float32Array(44_100), 44_100);
  assert.equal(silent.dynamic_complexity, 0);
  assert.equal(silent.mean_db, null);
  const tiny = analyzeLoudness(new Float32Array(100).fill(0.1), 44_100);
  assert.equal(tiny.dynamic_complexity, 0);
  assert.equal(tiny.rms_db.length, 1);
});
