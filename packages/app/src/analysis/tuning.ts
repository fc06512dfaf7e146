/**
 * Tuning: how far the instrument sits from A440, from the spectral peaks of frames just after the
 * onsets. Every partial of a tuned-down guitar (single notes, chord tones, octaves) is off the
 * equal-tempered grid by the same number of cents, so the deviations modulo a semitone pile up in
 * one place of a circular histogram whatever is played; its peak is the tuning.
 */
import { magnitudeSpectrum, spectralPeaks } from './spectrum.js';

export interface Tuning {
  frequency_hz: number;
  cents_from_a440: number;
}

const FRAME = 8192;
/** Upper partials of steel strings run sharp (inharmonicity): only the lower ones are used. */
const MAX_HZ = 1200;
const MIN_HZ = 70;
const MAX_FRAMES = 400;
const PEAKS_PER_FRAME = 12;

/** The tuning in cents from A440 (−50..50), or null when too few pitched peaks were found. */
export function estimateTuning(signal: Float32Array, sampleRate: number, onsets: readonly number[]): Tuning | null {
  const histogram = new Float64Array(100); // 1-cent bins, −50..49
  const step = Math.max(1, Math.ceil(onsets.length / MAX_FRAMES));
  const mags = new Float32Array(FRAME / 2 + 1);
  let used = 0;
  for (let i = 0; i < onsets.length; i += step) {
    const start = Math.round(((onsets[i] ?? 0) + 0.05) * sampleRate);
    if (start + FRAME > signal.length) break;
    magnitudeSpectrum(signal, start, FRAME, mags);
    const peaks = spectralPeaks(mags, sampleRate, FRAME, MIN_HZ, MAX_HZ, 0.1)
      .sort((a, b) => b.magnitude - a.magnitude)
      .slice(0, PEAKS_PER_FRAME);
    const top = peaks[0]?.magnitude ?? 0;
    if (!(top > 0)) continue;
    used++;
    for (const p of peaks) {
      const cents = 1200 * Math.log2(p.hz / 440);
      const dev = cents - 100 * Math.round(cents / 100);
      const bin = (Math.round(dev) + 50 + 100) % 100;
      histogram[bin] = (histogram[bin] ?? 0) + Math.sqrt(p.magnitude / top);
    }
  }
  if (used < 3) return null;
  // Smooth circularly (±4 cents, triangular), take the peak, refine by the circular mean around it.
  let bestBin = 0;
  let best = -1;
  for (let b = 0; b < 100; b++) {
    let s = 0;
    for (let d = -4; d <= 4; d++) s += (histogram[(b + d + 100) % 100] ?? 0) * (5 - Math.abs(d));
    if (s > best) {
      best = s;
      bestBin = b;
    }
  }
  let sum = 0;
  let weight = 0;
  for (let d = -8; d <= 8; d++) {
    const w = histogram[(bestBin + d + 100) % 100] ?? 0;
    sum += w * (bestBin - 50 + d);
    weight += w;
  }
  let cents = weight > 0 ? sum / weight : bestBin - 50;
  if (cents >= 50) cents -= 100;
  if (cents < -50) cents += 100;
  return { frequency_hz: Number((440 * 2 ** (cents / 1200)).toFixed(2)), cents_from_a440: Number(cents.toFixed(1)) };
}
