import { OnsetPitcher } from './pitch.js';
import type { Note } from './types.js';

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
/** The guitar's range in standard tuning, E2 to E6 (24th fret). */
export const GUITAR_LOW_MIDI = 40;
export const GUITAR_HIGH_MIDI = 88;
/** Below this share of the frame's sound explained by the note's harmonics, nothing pitched started (a drum hit, noise). */
const MIN_CONFIDENCE = 0.1;

export function noteName(midi: number): string {
  return `${NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}

/**
 * The notes played: at each onset, the pitch that started there (harmonic salience of the spectrum
 * after the onset less the one before it, see pitch.ts), named against the detected tuning
 * (`tuningCents`), so a guitar tuned 30 cents flat still plays an A where it fingers one.
 */
export function detectNotes(signal: Float32Array, sampleRate: number, onsets: readonly number[], endSeconds: number, tuningCents: number): Note[] {
  const reference = 440 * 2 ** (tuningCents / 1200);
  const pitcher = new OnsetPitcher(signal, sampleRate, reference, GUITAR_LOW_MIDI, GUITAR_HIGH_MIDI);
  const notes: Note[] = [];
  for (let i = 0; i < onsets.length; i++) {
    const onset = onsets[i] ?? 0;
    const next = onsets[i + 1] ?? endSeconds;
    const p = pitcher.at(onset);
    if (!p || p.confidence < MIN_CONFIDENCE) continue;
    notes.push({
      onset: Number(onset.toFixed(3)),
      duration: Number(Math.min(2, next - onset).toFixed(3)),
      midi: p.midi,
      name: noteName(p.midi),
      frequency_hz: Number(p.hz.toFixed(2)),
      confidence: Number(p.confidence.toFixed(3)),
    });
  }
  return notes;
}
