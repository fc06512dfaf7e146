import type { EssentiaApi } from './essentia.js';
import type { Note } from './types.js';

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
/** The guitar's range in standard tuning, E2 to E6 (24th fret). */
export const GUITAR_LOW_MIDI = 40;
export const GUITAR_HIGH_MIDI = 88;
const FRAME = 2048;
const MIN_CONFIDENCE = 0.5;

export function noteName(midi: number): string {
  return `${NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}

/**
 * The pitch track reduced to notes: one PitchYinFFT frame just after each onset (essentia calls
 * cost ~0.5 ms each, so pitching every frame of a 10-minute take would take ~25 s; a frame per
 * onset finds the same notes). Notes are named against the detected tuning (`tuningCents`), so a
 * guitar tuned 30 cents flat still plays an A where it fingers one.
 */
export function detectNotes(essentia: EssentiaApi, signal: Float32Array, sampleRate: number, onsets: readonly number[], endSeconds: number, tuningCents: number): Note[] {
  const pitched: Array<{ onset: number; duration: number; hz: number; confidence: number }> = [];
  for (let i = 0; i < onsets.length; i++) {
    const onset = onsets[i] ?? 0;
    const next = onsets[i + 1] ?? endSeconds;
    const start = Math.round((onset + 0.02) * sampleRate);
    if (start + FRAME > signal.length) break;
    const frame = essentia.arrayToVector(signal.subarray(start, start + FRAME));
    const windowed = essentia.Windowing(frame, true, FRAME, 'hann');
    const spectrum = essentia.Spectrum(windowed.frame, FRAME);
    try {
      const pitch = essentia.PitchYinFFT(spectrum.spectrum, FRAME, true, 1400, 75, sampleRate, 1);
      if (pitch.pitchConfidence >= MIN_CONFIDENCE && pitch.pitch > 0) {
        pitched.push({ onset, duration: Math.min(2, next - onset), hz: pitch.pitch, confidence: pitch.pitchConfidence });
      }
    } finally {
      frame.delete();
      windowed.frame.delete();
      spectrum.spectrum.delete();
    }
  }
  const reference = 440 * 2 ** (tuningCents / 1200);
  const notes: Note[] = [];
  for (const p of pitched) {
    const midi = Math.round(69 + 12 * Math.log2(p.hz / reference));
    if (midi < GUITAR_LOW_MIDI || midi > GUITAR_HIGH_MIDI) continue;
    notes.push({
      onset: Number(p.onset.toFixed(3)),
      duration: Number(p.duration.toFixed(3)),
      midi,
      name: noteName(midi),
      frequency_hz: Number(p.hz.toFixed(2)),
      confidence: Number(p.confidence.toFixed(3)),
    });
  }
  return notes;
}
