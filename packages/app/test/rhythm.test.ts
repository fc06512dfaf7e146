import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimateByTwo, onsetEnvelope } from '../src/analysis/onset-envelope.js';
import { tempoCandidates, trackBeats } from '../src/analysis/beat-tracker.js';
import { pickOnsets } from '../src/analysis/onsets.js';
import { analyzeRhythm, gridFit } from '../src/analysis/rhythm.js';
import { seededRandom } from '../src/samples/random.js';

/** A plucked-string-like click (noise burst and a decaying 880 Hz tone, 60 ms) at each time. */
function clicks(times: readonly number[], seconds: number, rate: number, seed = 7): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(Math.round(seconds * rate));
  const length = Math.round(0.06 * rate);
  for (const t of times) {
    const at = Math.round(t * rate);
    for (let i = 0; i < length && at + i < out.length; i++) {
      const decay = Math.exp(-i / (0.012 * rate));
      out[at + i] = (out[at + i] ?? 0) + 0.5 * decay * (Math.sin((2 * Math.PI * 880 * i) / rate) + 0.5 * (random() * 2 - 1));
    }
  }
  // A quiet noise floor, as a recording has.
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + 1e-4 * (random() * 2 - 1);
  return out;
}

const grid = (bpm: number, from: number, seconds: number): number[] => {
  const times: number[] = [];
  for (let t = from; t < seconds - 0.1; t += 60 / bpm) times.push(t);
  return times;
};

const nearest = (t: number, xs: readonly number[]): number => xs.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best), Infinity);

test('onsets are picked within 20 ms of each click (a hop and a half; they read early, see pickOnsets), none missed and none extra, at irregular spacing', () => {
  const times = [0.31, 0.52, 0.97, 1.13, 1.6, 2.05, 2.21, 2.9, 3.33, 3.7, 4.42, 4.61];
  const signal = clicks(times, 5, 44_100);
  const envelope = onsetEnvelope(signal, 44_100);
  const { times: found } = pickOnsets(envelope.strength, envelope.frameRate);
  assert.equal(found.length, times.length, `found ${JSON.stringify(found)}`);
  for (const t of times) assert.ok(Math.abs(nearest(t, found) - t) <= 0.02, `click at ${t}: nearest onset ${nearest(t, found)}`);
});

for (const bpm of [40, 58, 90, 123, 160, 180]) {
  test(`a click track at ${bpm} BPM: tempo within 1 %, and every beat on a click`, () => {
    const seconds = Math.max(20, (16 * 60) / bpm);
    const truth = grid(bpm, 0.43, seconds);
    const signal = clicks(truth, seconds, 44_100, bpm);
    const envelope = onsetEnvelope(signal, 44_100);
    const onsets = pickOnsets(envelope.strength, envelope.frameRate).times;
    const rhythm = analyzeRhythm(envelope, onsets);
    assert.ok(rhythm.bpm !== null && Math.abs(rhythm.bpm - bpm) <= 0.01 * bpm, `reported ${rhythm.bpm}`);
    assert.ok(rhythm.beats.length >= truth.length - 2, `${rhythm.beats.length} beats for ${truth.length} clicks`);
    for (const b of rhythm.beats) assert.ok(Math.abs(nearest(b, truth) - b) <= 0.03, `beat at ${b} is ${Math.round((nearest(b, truth) - b) * 1000)} ms from a click`);
  });
}

test('the first beat is on the first note, also when a slow take starts less than a period in (no predecessor within the recording)', () => {
  for (const bpm of [52, 66, 72, 84]) {
    for (const start of [0.25, 0.5]) {
      const truth = grid(bpm, start, 20);
      const envelope = onsetEnvelope(clicks(truth, 20, 44_100, bpm), 44_100);
      const rhythm = analyzeRhythm(envelope, pickOnsets(envelope.strength, envelope.frameRate).times);
      const first = rhythm.beats[0] ?? Infinity;
      assert.ok(Math.abs(first - start) <= 0.03, `${bpm} BPM from ${start} s: first beat at ${first}`);
    }
  }
});

test('an even pulse at 200 reads as eighth notes at 100 BPM, its beats on every other click', () => {
  const truth = grid(200, 0.3, 20);
  const envelope = onsetEnvelope(clicks(truth, 20, 44_100), 44_100);
  const rhythm = analyzeRhythm(envelope, pickOnsets(envelope.strength, envelope.frameRate).times);
  assert.ok(rhythm.bpm !== null && Math.abs(rhythm.bpm - 100) <= 1, `reported ${rhythm.bpm}`);
  for (const b of rhythm.beats) assert.ok(Math.abs(nearest(b, truth) - b) <= 0.03, `beat at ${b} is off the clicks`);
});

test('eighth notes accented in threes (a 3-3-2 strum feel) still read at the played beat, not 2/3 of it', () => {
  const bpm = 132;
  const eighth = 30 / bpm;
  const seconds = 30;
  const times: number[] = [];
  for (let t = 0.2; t < seconds - 0.1; t += eighth) times.push(t);
  // Louder at positions 0, 3 and 6 of every 8 eighths.
  const random = seededRandom(3);
  const rate = 22_050;
  const signal = new Float32Array(seconds * rate);
  times.forEach((t, i) => {
    const gain = [0, 3, 6].includes(i % 8) ? 1 : 0.35;
    const at = Math.round(t * rate);
    for (let j = 0; j < 0.05 * rate && at + j < signal.length; j++) signal[at + j] = (signal[at + j] ?? 0) + gain * Math.exp(-j / (0.01 * rate)) * (random() * 2 - 1);
  });
  const envelope = onsetEnvelope(signal, rate);
  const onsets = pickOnsets(envelope.strength, envelope.frameRate).times;
  const rhythm = analyzeRhythm(envelope, onsets);
  assert.ok(rhythm.bpm !== null, 'a tempo');
  // The played beat or its double/half (the meter step chooses the level), never a 2/3 or 3/2 reading.
  const ratio = rhythm.bpm / bpm;
  assert.ok([0.5, 1, 2].some((r) => Math.abs(ratio - r) <= 0.02), `reported ${rhythm.bpm} for ${bpm}`);
  assert.ok(gridFit(rhythm.beats, onsets) >= 0.9);
});

for (const rate of [8_000, 22_050, 96_000, 384_000]) {
  test(`the envelope reads the same click track at ${rate} Hz`, () => {
    const truth = grid(100, 0.25, 12);
    const signal = clicks(truth, 12, rate);
    const envelope = onsetEnvelope(signal, rate);
    assert.ok(envelope.sampleRate <= 32_000 && envelope.sampleRate >= 8_000, `analysed at ${envelope.sampleRate} Hz`);
    assert.ok(envelope.frameRate > 40 && envelope.frameRate < 130, `${envelope.frameRate} frames per second`);
    const onsets = pickOnsets(envelope.strength, envelope.frameRate).times;
    assert.equal(onsets.length, truth.length);
    for (const t of truth) assert.ok(Math.abs(nearest(t, onsets) - t) <= 0.02, `click at ${t}: nearest onset ${nearest(t, onsets)}`);
    const rhythm = analyzeRhythm(envelope, onsets);
    assert.ok(rhythm.bpm !== null && Math.abs(rhythm.bpm - 100) <= 1, `reported ${rhythm.bpm}`);
  });
}

test('silence and a take too short for a period: no onsets, no tempo, no error', () => {
  const silent = onsetEnvelope(new Float32Array(44_100 * 3), 44_100);
  assert.deepEqual(pickOnsets(silent.strength, silent.frameRate), { times: [], rate: 0 });
  assert.deepEqual(tempoCandidates(silent.strength, silent.frameRate), []);
  assert.deepEqual(analyzeRhythm(silent, []), { bpm: null, confidence: 0, beats: [] });
  assert.deepEqual(trackBeats(silent.strength, silent.frameRate, 120), []);
  const tiny = onsetEnvelope(clicks([0.01], 0.05, 44_100), 44_100);
  assert.deepEqual(analyzeRhythm(tiny, pickOnsets(tiny.strength, tiny.frameRate).times).beats, []);
  // 1.5 s of clicks at 120 BPM: three beats, enough for a tempo.
  const short = onsetEnvelope(clicks([0.1, 0.6, 1.1], 1.5, 44_100), 44_100);
  const shortRhythm = analyzeRhythm(short, pickOnsets(short.strength, short.frameRate).times);
  assert.ok(shortRhythm.bpm === null || Math.abs(shortRhythm.bpm - 120) <= 3, `reported ${shortRhythm.bpm}`);
});

test('the half-band decimator keeps the guitar band and removes what would alias', () => {
  const rate = 44_100;
  const tone = (hz: number): Float32Array => Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
  const rms = (x: Float32Array): number => Math.sqrt(x.slice(100, -100).reduce((s, v) => s + v * v, 0) / (x.length - 200));
  const pass = decimateByTwo(tone(1000));
  assert.equal(pass.length, rate / 2);
  assert.ok(Math.abs(rms(pass) - Math.SQRT1_2) < 0.01, `1 kHz kept at ${rms(pass)}`);
  const stop = decimateByTwo(tone(18_000));
  assert.ok(rms(stop) < 0.01 * Math.SQRT1_2, `18 kHz (would alias to 4 kHz) left at ${rms(stop)}`);
});

test('the log-mel spectrogram is kept whole: a tone peaks in one band in every frame, a higher tone in a higher band', () => {
  const rate = 44_100;
  const seconds = 2;
  const peakBands = (hz: number): number[] => {
    const tone = Float32Array.from({ length: rate * seconds }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
    const envelope = onsetEnvelope(tone, rate);
    const frames = envelope.strength.length;
    assert.equal(envelope.logMel.length, frames * envelope.bands);
    const peaks: number[] = [];
    for (let f = 2; f < frames - 2; f++) {
      const row = envelope.logMel.subarray(f * envelope.bands, (f + 1) * envelope.bands);
      peaks.push(row.indexOf(Math.max(...row)));
    }
    return peaks;
  };
  const low = peakBands(1000);
  const high = peakBands(2000);
  assert.equal(new Set(low).size, 1, `1 kHz peaks in bands ${[...new Set(low)].join(', ')}`);
  assert.equal(new Set(high).size, 1, `2 kHz peaks in bands ${[...new Set(high)].join(', ')}`);
  assert.ok((high[0] ?? 0) > (low[0] ?? 0), `2 kHz in band ${high[0]}, 1 kHz in band ${low[0]}`);
});
