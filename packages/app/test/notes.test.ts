/**
 * Notes of a line over an accompaniment: at every onset a bass note and a chord start with the
 * melody note, louder together than it; the notes reported are the melody's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectNotes } from '../src/analysis/notes.js';

const RATE = 22_050;
const hz = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);

/** A plucked string: decaying harmonics, each weaker up the series. */
function pluck(out: Float32Array, at: number, midi: number, seconds: number, level: number): void {
  const start = Math.round(at * RATE);
  const f = hz(midi);
  for (let i = 0; i < seconds * RATE && start + i < out.length; i++) {
    const t = i / RATE;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * f * h * t) / h ** 0.8;
    out[start + i] = (out[start + i] ?? 0) + v * Math.exp(-2.5 * t) * level;
  }
}

// C–Am–F–G, a bar each (four beats), bass on the root, a triad strummed on every beat, and a
// stepwise melody above, one note a beat.
const beat = 0.5;
const chords = [
  [36, [48, 52, 55]],
  [45, [45, 48, 52]],
  [41, [45, 48, 53]],
  [43, [47, 50, 55]],
] as const;
const melody = [64, 65, 67, 65, 64, 62, 60, 62, 65, 64, 62, 60, 59, 60, 62, 67];

function take(withAccompaniment: boolean): { signal: Float32Array; onsets: number[] } {
  const loops = 2;
  const signal = new Float32Array(Math.ceil((loops * 16 * beat + 1) * RATE));
  const onsets: number[] = [];
  for (let l = 0; l < loops; l++) {
    melody.forEach((m, i) => {
      const at = 0.25 + (l * 16 + i) * beat;
      onsets.push(at);
      pluck(signal, at, m, beat, 0.12);
      if (!withAccompaniment) return;
      const [bass, triad] = chords[Math.floor(i / 4)] ?? chords[0];
      if (i % 4 === 0) pluck(signal, at, bass, beat * 4, 0.2);
      for (const n of triad) pluck(signal, at + 0.004, n, beat, 0.07);
    });
  }
  return { signal, onsets };
}

function recall(notes: Array<{ onset: number; midi: number }>, onsets: number[]): number {
  let found = 0;
  onsets.forEach((o, i) => {
    if (notes.some((n) => Math.abs(n.onset - o) < 0.01 && n.midi === melody[i % melody.length])) found++;
  });
  return found / onsets.length;
}

test('a melody over bass and chords struck with it: the melody notes, not the bass or the chord', () => {
  const { signal, onsets } = take(true);
  const notes = detectNotes(signal, RATE, onsets, signal.length / RATE, 0);
  const r = recall(notes, onsets);
  assert.ok(r >= 0.9, `recall ${r}: ${notes.map((n) => n.name).join(' ')}`);
});

test('the same melody alone: every note, none an octave off', () => {
  const { signal, onsets } = take(false);
  const notes = detectNotes(signal, RATE, onsets, signal.length / RATE, 0);
  assert.equal(recall(notes, onsets), 1, notes.map((n) => n.name).join(' '));
});

/** A plucked string with `brightness` setting how fast its harmonics fall (1/h^brightness), up to 12 below Nyquist. */
function pluckBright(out: Float32Array, at: number, midi: number, seconds: number, level: number, brightness: number): void {
  const start = Math.round(at * RATE);
  const f = hz(midi);
  for (let i = 0; i < seconds * RATE && start + i < out.length; i++) {
    const t = i / RATE;
    let v = 0;
    for (let h = 1; h <= 12 && f * h < RATE / 2; h++) v += Math.sin(2 * Math.PI * f * h * t) / h ** brightness;
    out[start + i] = (out[start + i] ?? 0) + v * Math.exp(-2.5 * t) * level;
  }
}

test('a melody over a louder bass below the guitar range (its overtones fall inside it) and a five-string strum: the melody', () => {
  // C–Am–F–G, a bar each: the bass on the root from C1 to A1, every other beat an octave up, louder
  // than the melody and bright; a guitar voicing strummed with every melody note.
  const bars = [
    [24, [48, 55, 60, 64, 67]],
    [33, [45, 52, 57, 60, 64]],
    [29, [41, 48, 53, 57, 60]],
    [31, [43, 50, 55, 59, 62]],
  ] as const;
  const line = [67, 65, 64, 62, 64, 67, 69, 67, 65, 64, 60, 62, 62, 65, 67, 71];
  const signal = new Float32Array(Math.ceil((2 * 16 * beat + 1) * RATE));
  const onsets: number[] = [];
  for (let l = 0; l < 2; l++) {
    line.forEach((m, i) => {
      const at = 0.25 + (l * 16 + i) * beat;
      onsets.push(at);
      pluckBright(signal, at, m, beat, 0.12, 0.7);
      const [bass, voicing] = bars[Math.floor(i / 4)] ?? bars[0];
      pluckBright(signal, at, bass + (i % 2 ? 12 : 0), beat, 0.15, 0.5);
      voicing.forEach((n, j) => pluckBright(signal, at + 0.004 * j, n, beat, 0.05, 0.8));
    });
  }
  const notes = detectNotes(signal, RATE, onsets, signal.length / RATE, 0);
  const found = onsets.filter((o, i) => notes.some((n) => Math.abs(n.onset - o) < 0.01 && n.midi === line[i % line.length])).length;
  assert.ok(found / onsets.length >= 0.9, `recall ${found / onsets.length}: ${notes.map((n) => n.name).join(' ')}`);
});
