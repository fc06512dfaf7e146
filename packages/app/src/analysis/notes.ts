import { OnsetPitcher, type Candidates } from './pitch.js';
import type { Note } from './types.js';

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
/** The guitar's range in standard tuning, E2 to E6 (24th fret). */
export const GUITAR_LOW_MIDI = 40;
export const GUITAR_HIGH_MIDI = 88;
/** Below this share of the frame's sound explained by the note's harmonics, nothing pitched started (a drum hit, noise). */
const MIN_CONFIDENCE = 0.1;

/** The most salient local maxima considered per onset. */
const CANDIDATES = 6;
/** The head start of the single most salient pitch (after its octave checks). */
const BEST_BONUS = 0.1;
/** What a leap of an octave or more costs between consecutive notes (less for smaller leaps). */
const LEAP_COST = 1;

/** Head start per octave above the most salient pitch, over an accompaniment. */
const ABOVE_BONUS = 0.2;
/** A lower candidate at least this share as salient makes a candidate on its partial an overtone. */
const PARTIAL_GAIN = 1;
/** Partials of a note, in semitones above it. */
const PARTIALS = [12, 19, 24, 28, 31, 34, 36];
/** Notes looked for one by one at each onset (see OnsetPitcher.voices): a bass, the lead, a strum's strongest. */
const VOICES = 4;
/**
 * Head start of a candidate that is one of the notes found one by one, in proportion to its
 * salience there: it stayed salient once the other notes' partials were taken out, so it is not
 * only a bass's overtone or the octave below the lead.
 */
const VOICE_BONUS = 0.3;

export function noteName(midi: number): string {
  return `${NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}

/**
 * The notes played: at each onset, a pitch that started there (harmonic salience of the spectrum
 * after the onset less the one before it, see pitch.ts), named against the detected tuning
 * (`tuningCents`), so a guitar tuned 30 cents flat still plays an A where it fingers one.
 *
 * At an onset shared by a bass, a strum and a lead, the most salient new pitch is often the bass's
 * or the strum's. A melody moves mostly by small steps, so the pitch of each onset is chosen along
 * the whole take (Viterbi): among the few most salient new pitches of every onset, the sequence
 * that is salient and leaps least, with the single most salient pitch (after its octave checks)
 * preferred, so a line alone keeps its pitches; over an accompaniment (several notes start at most
 * onsets) the higher candidates get a head start, as the line a listener follows is the top one,
 * and so do the candidates that are among the notes found one by one at the onset (each found
 * note's partials taken out before the next is looked for, see OnsetPitcher.voices): the bass's
 * overtones and the octave below the lead, salient only through another note's partials, are not.
 */
export function detectNotes(signal: Float32Array, sampleRate: number, onsets: readonly number[], endSeconds: number, tuningCents: number): Note[] {
  const reference = 440 * 2 ** (tuningCents / 1200);
  const pitcher = new OnsetPitcher(signal, sampleRate, reference, GUITAR_LOW_MIDI, GUITAR_HIGH_MIDI);
  // Candidates per onset: pitch and how much the evidence favours it.
  const found: Array<{ onset: number; next: number } & Candidates> = [];
  for (let i = 0; i < onsets.length; i++) {
    const onset = onsets[i] ?? 0;
    const c = pitcher.candidates(onset, CANDIDATES, VOICES);
    if (c) found.push({ onset, next: onsets[i + 1] ?? endSeconds, ...c });
  }
  // Over an accompaniment the line is the part on top: higher candidates get a head start (not the
  // overtones of a lower candidate).
  const together = accompanied(found);
  const up = together ? ABOVE_BONUS : 0;
  const options = found.map((c) => {
    // A line alone: the most salient pitch is the note.
    if (!together) return { ...c, choices: [{ midi: c.best, score: 1 }] };
    const top = c.pitches[0]?.gain ?? 1;
    // A candidate on a partial of another salient one is that note's overtone: no head start.
    const partial = (p: { midi: number; gain: number }): boolean => c.pitches.some((q) => q.midi < p.midi && q.gain >= PARTIAL_GAIN * p.gain && PARTIALS.includes(p.midi - q.midi));
    const voices = c.voices.filter((v) => v.midi >= GUITAR_LOW_MIDI);
    const topVoice = Math.max(0, ...voices.map((v) => v.salience));
    const voiced = (midi: number): number => (topVoice > 0 ? (VOICE_BONUS * (voices.find((v) => v.midi === midi)?.salience ?? 0)) / topVoice : 0);
    const choices = c.pitches.map((p) => ({ midi: p.midi, score: voiced(p.midi) + p.gain / top + (p.midi === c.best ? BEST_BONUS : 0) + (partial(p) ? 0 : (up * (p.midi - c.best)) / 12) }));
    if (!choices.some((x) => x.midi === c.best)) choices.push({ midi: c.best, score: 1 + BEST_BONUS });
    return { ...c, choices };
  });
  const path = smoothestLine(options.map((o) => o.choices));
  const notes: Note[] = [];
  options.forEach((o, i) => {
    const midi = path[i];
    if (midi === undefined) return;
    const p = o.described.get(midi) ?? pitcher.describe(o.onset, midi);
    if (!p || p.confidence < MIN_CONFIDENCE) return;
    notes.push({
      onset: Number(o.onset.toFixed(3)),
      duration: Number(Math.min(2, o.next - o.onset).toFixed(3)),
      midi: p.midi,
      name: noteName(p.midi),
      frequency_hz: Number(p.hz.toFixed(2)),
      confidence: Number(p.confidence.toFixed(3)),
    });
  });
  return notes;
}

/**
 * Whether more than a single line sounds: at most onsets, the salient new pitches are not all
 * partials of the lowest of them (a chord, a bass under a melody).
 */
function accompanied(found: ReadonlyArray<{ pitches: ReadonlyArray<{ midi: number; gain: number }> }>): boolean {
  if (found.length === 0) return false;
  let several = 0;
  for (const f of found) {
    const top = f.pitches[0]?.gain ?? 0;
    const salient = f.pitches.filter((p) => p.gain >= POLY_SHARE * top).map((p) => p.midi).sort((a, b) => a - b);
    const roots = salient.filter((m) => !salient.some((q) => q < m && PARTIALS.includes(m - q)));
    if (roots.length >= 2) several++;
  }
  return several / found.length >= ACCOMPANIED_SHARE;
}
/** Candidates at least this salient (share of the strongest) count as sounding. */
const POLY_SHARE = 0.6;
/** The share of onsets with two notes or more that makes a take accompanied. */
const ACCOMPANIED_SHARE = 0.7;

/** The sequence of choices (one per step) with the most score less the cost of its leaps. */
function smoothestLine(steps: ReadonlyArray<ReadonlyArray<{ midi: number; score: number }>>): number[] {
  if (steps.length === 0) return [];
  let prev = (steps[0] ?? []).map((c) => c.score);
  const back: number[][] = [];
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1] ?? [];
    const here = steps[i] ?? [];
    const row: number[] = [];
    const next = here.map((c) => {
      let best = -Infinity;
      let arg = 0;
      from.forEach((f, j) => {
        const v = (prev[j] ?? 0) - (LEAP_COST * Math.min(12, Math.abs(f.midi - c.midi))) / 12;
        if (v > best) {
          best = v;
          arg = j;
        }
      });
      row.push(arg);
      return best + c.score;
    });
    back.push(row);
    prev = next;
  }
  let state = 0;
  prev.forEach((v, j) => {
    if (v > (prev[state] ?? -Infinity)) state = j;
  });
  const path = new Array<number>(steps.length);
  for (let i = steps.length - 1; i >= 0; i--) {
    path[i] = steps[i]?.[state]?.midi ?? 0;
    if (i > 0) state = back[i - 1]?.[state] ?? 0;
  }
  return path;
}
