/**
 * The key from per-beat chromas: loops whose pitch-class counts favour the relative key or the key
 * of their most frequent chord, 7th chords, a line whose overtones would read as the parallel
 * major, and the uncertainty said with confidences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { beatChromas, PITCH_CLASSES, type BeatChroma } from '../src/analysis/chords.js';
import { estimateKey } from '../src/analysis/key.js';

const pc = (name: string): number => PITCH_CLASSES.indexOf(name);

const SHAPES: Record<string, number[]> = { '': [0, 4, 7], m: [0, 3, 7], '7': [0, 4, 7, 10], maj7: [0, 4, 7, 11], m7: [0, 3, 7, 10] };

/** Four beats per chord: the chord's notes (root in the bass), as a strummed guitar would give them. */
function strummed(chords: string[], loops: number): BeatChroma[] {
  const out: BeatChroma[] = [];
  for (let l = 0; l < loops; l++) {
    for (const chord of chords) {
      const m = /^([A-G]#?)(maj7|m7|m|7)?$/.exec(chord);
      const root = pc(m?.[1] ?? 'C');
      const tones = (SHAPES[m?.[2] ?? ''] ?? [0, 4, 7]).map((t) => (root + t) % 12);
      for (let b = 0; b < 4; b++) {
        const chroma = new Float32Array(12);
        for (const t of tones) chroma[t] = 1 / tones.length;
        out.push({ chroma, pitches: chroma, chordPitches: chroma, bass: root, energy: 1 });
      }
    }
  }
  return out;
}

test('Em–C–G–D: more G than E in the notes, but the loop starts and rests on E minor', () => {
  const key = estimateKey(strummed(['Em', 'C', 'G', 'D'], 6));
  assert.equal(key?.name, 'E minor', JSON.stringify(key));
  assert.ok(key?.alternatives.includes('G major'), 'the relative major is named as the other reading');
});

test('the same chords from G: G–D–Em–C is G major', () => {
  assert.equal(estimateKey(strummed(['G', 'D', 'Em', 'C'], 6))?.name, 'G major');
});

test('i–iv–V–i in F# minor (the dominant C# major carries the leading tone) is F# minor', () => {
  assert.equal(estimateKey(strummed(['F#m', 'Bm', 'C#', 'F#m'], 6))?.name, 'F# minor');
});

test('an Aeolian loop F#m–E–D–E: E sounds in half the bars (and in the bass), but the loop starts on F# minor', () => {
  const key = estimateKey(strummed(['F#m', 'E', 'D', 'E'], 6));
  assert.equal(key?.name, 'F# minor', JSON.stringify(key));
  assert.equal(key?.candidates[1]?.name, 'E major', 'the key of its most frequent chord is the next reading');
});

test('Imaj7–vi7–ii7–V7 in A: the 7th chords are heard as A, F#m, Bm and E (the V7 resolving to I across the loop)', () => {
  assert.equal(estimateKey(strummed(['Amaj7', 'F#m7', 'Bm7', 'E7'], 5))?.name, 'A major');
});

test('the bars start where the take starts: a beat of silence before the loop does not shift the phrase', () => {
  const silence = { chroma: new Float32Array(12), pitches: new Float32Array(12), chordPitches: new Float32Array(12), bass: -1, energy: 0 };
  assert.equal(estimateKey([silence, ...strummed(['Bm', 'A', 'G', 'A'], 6)])?.name, 'B minor');
});

test('i–iv–VII–III (a minor loop ending on its relative major) is a close call, said as one', () => {
  const key = estimateKey(strummed(['Am', 'Dm', 'G', 'C'], 6));
  assert.ok(key);
  assert.deepEqual(key.candidates.slice(0, 2).map((c) => c.name).sort(), ['A minor', 'C major']);
  assert.ok((key.candidates[1]?.confidence ?? 0) >= 0.2, JSON.stringify(key.candidates));
});

test('confidences: sum at most 1, best first, and a close call is reported as one', () => {
  // The loop stops on G: starting on Em says E minor, ending on G says G major.
  const key = estimateKey([...strummed(['Em', 'C', 'G', 'D'], 6), ...strummed(['Em', 'C', 'G'], 1)]);
  assert.ok(key);
  assert.equal(key.name, 'E minor');
  assert.equal(key.candidates[1]?.name, 'G major');
  assert.ok((key.candidates[1]?.confidence ?? 0) >= 0.05, JSON.stringify(key.candidates));
  const c = key.candidates.map((x) => x.confidence);
  assert.ok(c.every((x, i) => i === 0 || x <= (c[i - 1] ?? 1)), JSON.stringify(key.candidates));
  assert.ok(c.reduce((a, b) => a + b, 0) <= 1.0001);
  assert.equal(key.strength, c[0]);
});

test('nothing heard: no key', () => {
  const silent = Array.from({ length: 16 }, () => ({ chroma: new Float32Array(12), pitches: new Float32Array(12), chordPitches: new Float32Array(12), bass: -1, energy: 0 }));
  assert.equal(estimateKey(silent), null);
});

/** A plucked note with rich harmonics (the 5th harmonic of A is a C#, of a major third above). */
function pluck(out: Float32Array, rate: number, at: number, hz: number, seconds: number): void {
  const start = Math.round(at * rate);
  for (let i = 0; i < seconds * rate && start + i < out.length; i++) {
    const t = i / rate;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += (Math.sin(2 * Math.PI * hz * h * t) * 0.6) / h ** 0.7;
    out[start + i] = (out[start + i] ?? 0) + v * Math.exp(-3 * t) * 0.2;
  }
}

test('a single-note line in A minor: its overtones are not read as A major', () => {
  const rate = 22_050;
  const beat = 0.5;
  // A C E A | D F A D | E G# B E | A C E A — over and over (i–iv–V–i outlined one note a beat).
  const line = ['A3', 'C4', 'E4', 'A4', 'D4', 'F4', 'A4', 'D4', 'E4', 'G#4', 'B4', 'E4', 'A3', 'C4', 'E4', 'A3'];
  const hzOf = (n: string): number => {
    const m = /^([A-G]#?)(\d)$/.exec(n);
    return 440 * 2 ** ((pc(m?.[1] ?? 'A') + 12 * (Number(m?.[2]) + 1) - 69) / 12);
  };
  const loops = 4;
  const signal = new Float32Array(Math.ceil((loops * line.length * beat + 1) * rate));
  const bounds: number[] = [];
  for (let l = 0; l < loops; l++) {
    line.forEach((n, i) => {
      const at = (l * line.length + i) * beat;
      bounds.push(at);
      pluck(signal, rate, at, hzOf(n), beat);
    });
  }
  bounds.push(loops * line.length * beat);
  const key = estimateKey(beatChromas(signal, rate, bounds, 0));
  assert.equal(key?.name, 'A minor', JSON.stringify(key));
});
