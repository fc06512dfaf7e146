/**
 * Chords per beat, smoothed into segments: a chroma profile per beat (spectral peaks of two frames,
 * folded onto pitch classes against the detected tuning, with the bass note apart), scored against
 * major, minor, dominant 7th, major 7th and minor 7th templates, then the most likely sequence
 * (Viterbi) where changing chord costs something and chords of the key are preferred, so a
 * non-diatonic chord is only reported when the sound clearly says so (a segment outside the key
 * weaker than OUTSIDE_KEY_STRENGTH is left without a chord: weak evidence is no reason).
 */
import { magnitudeSpectrum, spectralPeaks, type Peak } from './spectrum.js';
import type { Chord } from './types.js';

export const PITCH_CLASSES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const FRAME = 8192;
const QUALITIES = [
  { suffix: '', tones: [0, 4, 7], minor: false },
  { suffix: 'm', tones: [0, 3, 7], minor: true },
  { suffix: '7', tones: [0, 4, 7, 10], minor: false },
  { suffix: 'maj7', tones: [0, 4, 7, 11], minor: false },
  { suffix: 'm7', tones: [0, 3, 7, 10], minor: true },
] as const;
/** What changing chord between two beats costs (in template-similarity units). */
const CHANGE_COST = 0.12;
/** The bonus of a chord whose triad belongs to the key. */
const KEY_BONUS = 0.06;
/** Below this similarity a segment gets no chord (noise, a single note, silence). */
const MIN_STRENGTH = 0.5;
/** A chord outside the key is reported only when the sound says it this clearly (a reason). */
const OUTSIDE_KEY_STRENGTH = 0.9;
/** Beats quieter than this share of the take's median beat get no chord (a reverb tail, a pause). */
const MIN_ENERGY_SHARE = 0.05;

export interface KeyContext {
  tonic: string;
  scale: string;
}

export interface BeatChroma {
  /** 12 bins from C, normalised to sum 1 (zeros when nothing was played). */
  chroma: Float32Array;
  /**
   * The same without the peaks a lower peak's harmonics explain (2nd–8th): the notes played rather
   * than their overtones (a single A's 5th harmonic would otherwise read as a C#, an A major), sum 1.
   */
  pitches: Float32Array;
  /**
   * The same, with only the frame's strongest peaks (at least CHORD_FUNDAMENTAL of the loudest) as
   * fundamentals: in a chord a weaker string's note often sits on a louder string's harmonic (the
   * fifth on the root's 3rd) and is played, not an overtone.
   */
  chordPitches: Float32Array;
  /** The pitch class of the strongest low peak (below 220 Hz), or -1. */
  bass: number;
  energy: number;
}

/** A lower peak at least this share as strong as a peak can be its fundamental. */
const OVERTONE_BASE = 0.1;
const OVERTONES = [2, 3, 4, 5, 6, 7, 8];
/** In `chordPitches`, a fundamental is at least this share of the frame's strongest peak. */
const CHORD_FUNDAMENTAL = 0.6;

/** Whether a peak sits on one of the `overtones` (±30 cents) of a lower peak at least OVERTONE_BASE as strong (and at least `floor`). */
function isOvertone(peaks: readonly Peak[], i: number, overtones: readonly number[], floor = 0): boolean {
  const p = peaks[i];
  if (!p) return false;
  for (let j = 0; j < i; j++) {
    const q = peaks[j];
    if (!q || q.magnitude < OVERTONE_BASE * p.magnitude || q.magnitude < floor) continue;
    const h = Math.round(p.hz / q.hz);
    if (overtones.includes(h) && Math.abs(1200 * Math.log2(p.hz / (h * q.hz))) <= 30) return true;
  }
  return false;
}

/** Chroma of the spectral peaks of a frame, folded against the tuning reference. */
function addFrame(signal: Float32Array, start: number, sampleRate: number, refHz: number, into: { chroma: Float32Array; pitches: Float32Array; chordPitches: Float32Array; bass: Float32Array }, mags: Float32Array): number {
  magnitudeSpectrum(signal, start, FRAME, mags);
  const peaks = spectralPeaks(mags, sampleRate, FRAME, 60, 2000, 0.03);
  let energy = 0;
  const strongest = peaks.reduce((a, p) => Math.max(a, p.magnitude), 0);
  const floor = strongest * CHORD_FUNDAMENTAL;
  peaks.forEach((p, i) => {
    const midi = 69 + 12 * Math.log2(p.hz / refHz);
    const pc = ((Math.round(midi) % 12) + 12) % 12;
    const w = Math.sqrt(p.magnitude);
    into.chroma[pc] = (into.chroma[pc] ?? 0) + w;
    if (!isOvertone(peaks, i, OVERTONES)) into.pitches[pc] = (into.pitches[pc] ?? 0) + w;
    if (!isOvertone(peaks, i, OVERTONES, floor)) into.chordPitches[pc] = (into.chordPitches[pc] ?? 0) + w;
    if (p.hz < 220) into.bass[pc] = (into.bass[pc] ?? 0) + w;
    energy += p.magnitude;
  });
  return energy;
}

function normalise(v: Float32Array): void {
  const total = v.reduce((a, b) => a + b, 0);
  if (total > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / total;
}

/** One chroma per beat interval (or per second without a beat grid). */
export function beatChromas(signal: Float32Array, sampleRate: number, bounds: readonly number[], tuningCents: number): BeatChroma[] {
  const refHz = 440 * 2 ** (tuningCents / 1200);
  const mags = new Float32Array(FRAME / 2 + 1);
  const out: BeatChroma[] = [];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const start = bounds[s] ?? 0;
    const end = bounds[s + 1] ?? start;
    const chroma = new Float32Array(12);
    const pitches = new Float32Array(12);
    const chordPitches = new Float32Array(12);
    const bass = new Float32Array(12);
    let energy = 0;
    for (const at of [0.1, 0.5]) {
      const first = Math.round((start + (end - start) * at) * sampleRate);
      if (first + FRAME > signal.length) continue;
      energy += addFrame(signal, first, sampleRate, refHz, { chroma, pitches, chordPitches, bass }, mags);
    }
    normalise(chroma);
    normalise(pitches);
    normalise(chordPitches);
    let bassPc = -1;
    let bassMax = 0;
    for (let i = 0; i < 12; i++) {
      if ((bass[i] ?? 0) > bassMax) {
        bassMax = bass[i] ?? 0;
        bassPc = i;
      }
    }
    out.push({ chroma, pitches, chordPitches, bass: bassPc, energy });
  }
  return out;
}

/** Whether a triad (root pitch class, minor) belongs to the key; in minor the major V too. */
export function triadInKey(root: number, minor: boolean, key: KeyContext): boolean {
  const tonic = PITCH_CLASSES.indexOf(key.tonic);
  if (tonic < 0) return false;
  const degree = (root - tonic + 12) % 12;
  const allowed: Array<[number, boolean]> =
    key.scale === 'minor'
      ? [[0, true], [3, false], [5, true], [7, true], [7, false], [8, false], [10, false]]
      : [[0, false], [2, true], [4, true], [5, false], [7, false], [9, true]];
  return allowed.some(([d, m]) => d === degree && m === minor);
}

interface Template {
  name: string;
  root: number;
  minor: boolean;
  weights: Float32Array;
  norm: number;
}

const TEMPLATES: Template[] = [];
for (let root = 0; root < 12; root++) {
  for (const q of QUALITIES) {
    const weights = new Float32Array(12);
    for (const t of q.tones) weights[(root + t) % 12] = t === 10 || t === 11 ? 0.8 : 1;
    TEMPLATES.push({ name: `${PITCH_CLASSES[root]}${q.suffix}`, root, minor: q.minor, weights, norm: Math.hypot(...weights) });
  }
}

/** Similarity of a chroma to each template (cosine), with a bonus when the bass plays the root. */
function scores(b: BeatChroma): Float32Array {
  const out = new Float32Array(TEMPLATES.length);
  const norm = Math.hypot(...b.chroma);
  if (!(norm > 0)) return out;
  TEMPLATES.forEach((t, i) => {
    let dot = 0;
    for (let pc = 0; pc < 12; pc++) dot += (b.chroma[pc] ?? 0) * (t.weights[pc] ?? 0);
    out[i] = dot / (norm * t.norm) + (b.bass === t.root ? 0.08 : 0);
  });
  return out;
}

/** The boundaries chords are measured between: the beats (and one more period), or every second without a grid. */
export function chordBounds(beats: readonly number[], endSeconds: number): number[] {
  const bounds: number[] = [];
  if (beats.length >= 3) {
    bounds.push(...beats);
    const last = beats.at(-1) ?? 0;
    const period = last - (beats.at(-2) ?? last);
    if (last + period <= endSeconds) bounds.push(last + period);
  } else for (let t = 0; t < endSeconds; t += 1) bounds.push(t);
  return bounds;
}

/**
 * Chords over `bounds` (each segment one or more beats) from their chromas. With a key, chords of
 * the key get a small bonus: the smoothing then prefers them unless the sound clearly says otherwise.
 */
export function detectChords(chromas: readonly BeatChroma[], bounds: readonly number[], endSeconds: number, key: KeyContext | null): Chord[] {
  if (chromas.length === 0) return [];
  const emissions = chromas.map(scores);
  const prior = TEMPLATES.map((t) => (key && triadInKey(t.root, t.minor, key) ? KEY_BONUS : 0));
  // Viterbi over beats.
  const n = emissions.length;
  const states = TEMPLATES.length;
  const back = new Int16Array(n * states);
  let score = new Float64Array(states);
  for (let s = 0; s < states; s++) score[s] = (emissions[0]?.[s] ?? 0) + (prior[s] ?? 0);
  for (let i = 1; i < n; i++) {
    const next = new Float64Array(states);
    let bestPrev = 0;
    for (let s = 1; s < states; s++) if ((score[s] ?? 0) > (score[bestPrev] ?? 0)) bestPrev = s;
    const e = emissions[i];
    for (let s = 0; s < states; s++) {
      const stay = score[s] ?? 0;
      const change = (score[bestPrev] ?? 0) - CHANGE_COST;
      const from = stay >= change ? s : bestPrev;
      next[s] = Math.max(stay, change) + (e?.[s] ?? 0) + (prior[s] ?? 0);
      back[i * states + s] = from;
    }
    score = next;
  }
  const path = new Array<number>(n);
  let state = 0;
  for (let s = 1; s < states; s++) if ((score[s] ?? 0) > (score[state] ?? 0)) state = s;
  for (let i = n - 1; i >= 0; i--) {
    path[i] = state;
    state = back[i * states + state] ?? 0;
  }
  const energies = chromas.map((c) => c.energy).sort((a, b) => a - b);
  const quiet = (energies[Math.floor(energies.length / 2)] ?? 0) * MIN_ENERGY_SHARE;
  const isQuiet = (k: number): boolean => (chromas[k]?.energy ?? 0) <= quiet;
  const chords: Chord[] = [];
  let i = 0;
  while (i < n) {
    if (isQuiet(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && path[j + 1] === path[i] && !isQuiet(j + 1)) j++;
    const s = path[i] ?? 0;
    let sum = 0;
    for (let k = i; k <= j; k++) sum += emissions[k]?.[s] ?? 0;
    const strength = sum / (j - i + 1);
    const t = TEMPLATES[s];
    const reason = !key || triadInKey(t?.root ?? 0, t?.minor ?? false, key) || strength >= OUTSIDE_KEY_STRENGTH;
    if (t && strength >= MIN_STRENGTH && reason) {
      chords.push({ start: Number((bounds[i] ?? 0).toFixed(3)), end: Number((bounds[j + 1] ?? endSeconds).toFixed(3)), chord: t.name, strength: Number(Math.min(1, strength).toFixed(3)) });
    }
    i = j + 1;
  }
  return chords;
}

/** The summed chroma of the whole take (for the key), from the per-beat chromas. */
export function totalChroma(chromas: readonly BeatChroma[]): Float32Array {
  const sum = new Float32Array(12);
  for (const c of chromas) for (let i = 0; i < 12; i++) sum[i] = (sum[i] ?? 0) + (c.chroma[i] ?? 0);
  return sum;
}
