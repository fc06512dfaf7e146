import type { EssentiaApi } from './essentia.js';
import type { Chord } from './types.js';

const PITCH_CLASSES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const FRAME = 4096;
/** Below this similarity a segment gets no chord (noise, a single note, silence). */
const MIN_STRENGTH = 0.6;

/**
 * Chords per segment (two beats, or one second without a beat grid): essentia's HPCP over two
 * frames of the segment, matched against the 24 major and minor triads. essentia's own
 * ChordsDetection wants frame-by-frame HPCP at a 2048 hop (~25 calls per second of audio at
 * ~0.5 ms each); fed one HPCP per segment it answered every segment "Am" with strength -1.
 */
export function detectChords(essentia: EssentiaApi, signal: Float32Array, sampleRate: number, beats: readonly number[], endSeconds: number): Chord[] {
  const bounds: number[] = [];
  if (beats.length >= 3) for (let i = 0; i < beats.length; i += 2) bounds.push(beats[i] ?? 0);
  else for (let t = 0; t < endSeconds; t += 1) bounds.push(t);
  bounds.push(endSeconds);
  const chords: Chord[] = [];
  for (let s = 0; s + 1 < bounds.length; s++) {
    const start = bounds[s] ?? 0;
    const end = bounds[s + 1] ?? endSeconds;
    const profile = new Float32Array(12);
    for (const at of [0.3, 0.7]) {
      const first = Math.round((start + (end - start) * at) * sampleRate);
      if (first + FRAME > signal.length) continue;
      const frame = essentia.arrayToVector(signal.subarray(first, first + FRAME));
      const windowed = essentia.Windowing(frame, true, FRAME, 'blackmanharris62');
      const spectrum = essentia.Spectrum(windowed.frame, FRAME);
      const peaks = essentia.SpectralPeaks(spectrum.spectrum, 0.00001, 5000, 60, 40, 'magnitude', sampleRate);
      const hpcp = essentia.HPCP(peaks.frequencies, peaks.magnitudes);
      try {
        const values = essentia.vectorToArray(hpcp.hpcp);
        // HPCP bin 0 is A (reference 440 Hz); pitch class 0 here is C.
        for (let bin = 0; bin < 12; bin++) profile[(bin + 9) % 12] = (profile[(bin + 9) % 12] ?? 0) + (values[bin] ?? 0);
      } finally {
        for (const v of [frame, windowed.frame, spectrum.spectrum, peaks.frequencies, peaks.magnitudes, hpcp.hpcp]) v.delete();
      }
    }
    const best = matchTriad(profile);
    if (best && best.strength >= MIN_STRENGTH) {
      chords.push({ start: Number(start.toFixed(3)), end: Number(end.toFixed(3)), chord: best.name, strength: Number(best.strength.toFixed(3)) });
    }
  }
  return chords;
}

/** The major or minor triad closest (cosine similarity) to a 12-bin chroma profile starting at C. */
export function matchTriad(profile: Float32Array): { name: string; strength: number } | null {
  const norm = Math.hypot(...profile);
  if (!(norm > 0)) return null;
  let best: { name: string; strength: number } | null = null;
  for (let root = 0; root < 12; root++) {
    for (const [suffix, third] of [['', 4], ['m', 3]] as const) {
      const tones = [root, (root + third) % 12, (root + 7) % 12];
      const dot = tones.reduce((sum, pc) => sum + (profile[pc] ?? 0), 0);
      const strength = dot / (norm * Math.sqrt(3));
      if (!best || strength > best.strength) best = { name: `${PITCH_CLASSES[root]}${suffix}`, strength };
    }
  }
  return best;
}
