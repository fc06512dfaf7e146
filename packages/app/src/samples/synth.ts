/**
 * Guitar-like test recordings with a known answer: plucked strings (Karplus–Strong) playing a
 * chord progression in a given key and tempo. Used by the tests, the benchmark and the README demo.
 * Rendered bar by bar, so a 30-minute recording never needs 30 minutes in memory.
 */
import { seededRandom } from './random.js';

export const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;
export type NoteName = (typeof NOTE_NAMES)[number];
export type Scale = 'major' | 'minor';

export interface SongSpec {
  seconds: number;
  bpm: number;
  tonic: NoteName;
  scale: Scale;
  sampleRate: number;
  channels: 1 | 2;
  /** Frequency of A4 (tuning): 440 unless testing a detuned guitar. */
  tuningHz: number;
  /** `lick`: a single-note melody; `full`: strummed chords, bass and melody. */
  style: 'lick' | 'full';
  seed: number;
}

export interface SongNote {
  onset: number;
  duration: number;
  midi: number;
}

export interface SongTruth {
  bpm: number;
  tonic: NoteName;
  scale: Scale;
  tuningHz: number;
  /** Melody notes (the single-note line), in order. */
  melody: SongNote[];
  beats: number[];
}

export const DEFAULT_SONG: SongSpec = {
  seconds: 30,
  bpm: 120,
  tonic: 'A',
  scale: 'minor',
  sampleRate: 44_100,
  channels: 1,
  tuningHz: 440,
  style: 'full',
  seed: 1,
};

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
/** Harmonic minor: the raised 7th makes the V chord major (E–G♯–B in A minor), as minor-key songs play it. */
const HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11];

export function midiToHz(midi: number, tuningHz = 440): number {
  return tuningHz * 2 ** ((midi - 69) / 12);
}

export function midiName(midi: number): string {
  return `${NOTE_NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}

/** Degrees (0-based) of the progression i–iv–V–i (minor) or I–IV–V–I (major), one chord per bar. */
function progression(_scale: Scale): number[] {
  return [0, 3, 4, 0];
}

/** The MIDI note of a scale degree above the tonic in the octave of `octaveC` (a C: 36 = C2, 48 = C3). */
function degreeMidi(tonicPc: number, scale: Scale, degree: number, octaveC: number): number {
  const steps = scale === 'minor' ? HARMONIC_MINOR : MAJOR;
  const octave = Math.floor(degree / 7);
  const pc = tonicPc + (steps[((degree % 7) + 7) % 7] ?? 0);
  return octaveC + pc + 12 * octave;
}

/**
 * One plucked string: Karplus–Strong (two-tap average, decay) with a first-order allpass for the
 * fractional part of the period, so the pitch is exact rather than rounded to whole samples.
 */
function pluck(out: Float32Array, start: number, frequency: number, seconds: number, gain: number, sampleRate: number, rnd: () => number): void {
  // Loop delay = N samples + 0.5 (the average) + d (the allpass), with d in [0.1, 1.1).
  const total = sampleRate / frequency - 0.5;
  const n = Math.max(2, Math.floor(total - 0.1));
  const d = total - n;
  const c = (1 - d) / (1 + d);
  const ring = new Float32Array(n);
  for (let i = 0; i < n; i++) ring[i] = rnd() * 2 - 1;
  const length = Math.min(out.length - start, Math.round(seconds * sampleRate));
  const decay = 0.996;
  let idx = 0;
  let prev = 0; // last sample into the averaging filter
  let apIn = 0;
  let apOut = 0;
  for (let i = 0; i < length; i++) {
    const value = ring[idx] ?? 0;
    const averaged = decay * 0.5 * (value + prev);
    prev = value;
    const y = c * averaged + apIn - c * apOut;
    apIn = averaged;
    apOut = y;
    ring[idx] = y;
    idx = (idx + 1) % n;
    const fade = i > length - 200 ? (length - i) / 200 : 1;
    out[start + i] = (out[start + i] ?? 0) + value * gain * fade;
  }
}

export interface RenderedBlock {
  /** One array per channel, `frames` long. */
  channels: Float32Array[];
  frames: number;
}

/**
 * Renders the song bar by bar and hands each finished block to `onBlock`; returns the truth.
 * Peak level stays under 0.9 (no clipping).
 */
export function renderSong(spec: SongSpec, onBlock: (block: RenderedBlock) => void): SongTruth {
  const rnd = seededRandom(spec.seed);
  const tonicPc = NOTE_NAMES.indexOf(spec.tonic);
  const beat = 60 / spec.bpm;
  const barSeconds = beat * 4;
  const sr = spec.sampleRate;
  const totalFrames = Math.round(spec.seconds * sr);
  const tailFrames = Math.round(2.5 * sr);
  const barFrames = barSeconds * sr;
  const chords = progression(spec.scale);
  const melody: SongNote[] = [];
  const beats: number[] = [];
  // The mix for the bar being played plus the ringing tail of earlier notes.
  let mix = new Float32Array(Math.ceil(barFrames) + tailFrames);
  let mixStart = 0; // frame index of mix[0]
  let emitted = 0;
  const gainLead = spec.style === 'lick' ? 0.55 : 0.32;

  for (let bar = 0; emitted < totalFrames; bar++) {
    const barStart = bar * barSeconds;
    const degree = chords[bar % chords.length] ?? 0;
    const at = (t: number): number => Math.round(t * sr) - mixStart;
    for (let b = 0; b < 4; b++) {
      const t = barStart + b * beat;
      if (t < spec.seconds) beats.push(Number(t.toFixed(6)));
    }
    if (spec.style === 'full') {
      // Bass on every beat, a strum on beats 1 and 3.
      const bass = degreeMidi(tonicPc, spec.scale, degree, tonicPc >= 4 ? 36 : 48); // E2..D#3
      for (let b = 0; b < 4; b++) {
        const t = barStart + b * beat;
        if (t < spec.seconds) pluck(mix, at(t), midiToHz(bass, spec.tuningHz), beat * 0.95, 0.45, sr, rnd);
      }
      for (const b of [0, 2]) {
        const t = barStart + b * beat;
        for (let s = 0; s < 3; s++) {
          const tone = degreeMidi(tonicPc, spec.scale, degree + s * 2, 48);
          const ts = t + s * 0.012;
          if (ts < spec.seconds) pluck(mix, at(ts), midiToHz(tone, spec.tuningHz), beat * 1.9, 0.25, sr, rnd);
        }
      }
    }
    // Melody: eighth notes walking the chord's tones and the scale, in the guitar's middle range.
    const pattern = [0, 2, 4, 2, 7, 4, 2, 1];
    for (let e = 0; e < 8; e++) {
      const t = barStart + (e * beat) / 2;
      if (t >= spec.seconds) break;
      const midi = degreeMidi(tonicPc, spec.scale, degree + (pattern[e] ?? 0), 48);
      const duration = beat / 2;
      pluck(mix, at(t), midiToHz(midi, spec.tuningHz), duration * 0.98, gainLead, sr, rnd);
      melody.push({ onset: Number(t.toFixed(6)), duration, midi });
    }
    // Everything before the next bar is final: emit it.
    const nextBarFrame = Math.min(totalFrames, Math.round((bar + 1) * barSeconds * sr));
    const ready = nextBarFrame - emitted;
    if (ready > 0) {
      const block = mix.subarray(0, ready);
      const channels: Float32Array[] = [];
      for (let c = 0; c < spec.channels; c++) {
        const ch = new Float32Array(ready);
        const gain = c === 0 ? 1 : 0.9;
        for (let i = 0; i < ready; i++) ch[i] = Math.max(-0.9, Math.min(0.9, (block[i] ?? 0) * gain));
        channels.push(ch);
      }
      onBlock({ channels, frames: ready });
      emitted += ready;
      const next = new Float32Array(mix.length);
      next.set(mix.subarray(ready));
      mix = next;
      mixStart += ready;
    }
  }
  return { bpm: spec.bpm, tonic: spec.tonic, scale: spec.scale, tuningHz: spec.tuningHz, melody, beats };
}
