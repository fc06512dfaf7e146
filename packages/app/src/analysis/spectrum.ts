/**
 * Magnitude spectra of single frames, computed in JavaScript with fft.js (a radix-4 real FFT, ~0.1 ms
 * for 8192 points; an essentia.js call chain costs ~0.5 ms per step and copies through WebAssembly).
 * One place computes spectra, and tuning, chroma and chords read them.
 */
import FFT from 'fft.js';

const ffts = new Map<number, { fft: FFT; window: Float64Array; input: Float64Array; out: Float64Array }>();

function plan(size: number) {
  let p = ffts.get(size);
  if (!p) {
    const window = new Float64Array(size);
    for (let i = 0; i < size; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
    p = { fft: new FFT(size), window, input: new Float64Array(size), out: new Float64Array(2 * size) };
    ffts.set(size, p);
  }
  return p;
}

/** Writes into `input` the frame of `signal` starting at sample `start` times `window` (zero beyond the signal). */
export function windowFrame(signal: Float32Array, start: number, window: Float64Array, input: Float64Array): void {
  const size = window.length;
  if (start >= 0 && start + size <= signal.length) {
    for (let i = 0; i < size; i++) input[i] = signal[start + i]! * window[i]!;
  } else {
    for (let i = 0; i < size; i++) {
      const j = start + i;
      input[i] = j >= 0 && j < signal.length ? signal[j]! * window[i]! : 0;
    }
  }
}

/** |X(k)| for k = 0..size/2 of the Hann-windowed frame starting at sample `start` (zero beyond the signal). */
export function magnitudeSpectrum(signal: Float32Array, start: number, size: number, into?: Float32Array): Float32Array {
  const { fft, window, input, out } = plan(size);
  windowFrame(signal, start, window, input);
  fft.realTransform(out, input);
  const mags = into ?? new Float32Array(size / 2 + 1);
  for (let k = 0; k <= size / 2; k++) {
    const re = out[2 * k]!;
    const im = out[2 * k + 1]!;
    mags[k] = Math.sqrt(re * re + im * im);
  }
  return mags;
}

export interface Peak {
  hz: number;
  magnitude: number;
}

/** Local maxima between minHz and maxHz above `floor` × the frame's maximum, frequency refined by parabolic interpolation. */
export function spectralPeaks(mags: Float32Array, sampleRate: number, size: number, minHz: number, maxHz: number, floor = 0.05): Peak[] {
  const binHz = sampleRate / size;
  const lo = Math.max(2, Math.floor(minHz / binHz));
  const hi = Math.min(mags.length - 2, Math.ceil(maxHz / binHz));
  let max = 0;
  for (let k = lo; k <= hi; k++) max = Math.max(max, mags[k] ?? 0);
  const peaks: Peak[] = [];
  if (!(max > 0)) return peaks;
  for (let k = lo; k <= hi; k++) {
    const m = mags[k] ?? 0;
    if (m < floor * max || m <= (mags[k - 1] ?? 0) || m < (mags[k + 1] ?? 0)) continue;
    // Parabolic interpolation on log magnitudes.
    const a = Math.log((mags[k - 1] ?? 0) + 1e-12);
    const b = Math.log(m + 1e-12);
    const c = Math.log((mags[k + 1] ?? 0) + 1e-12);
    const denom = a - 2 * b + c;
    const delta = denom < 0 ? (0.5 * (a - c)) / denom : 0;
    peaks.push({ hz: (k + delta) * binHz, magnitude: m });
  }
  return peaks;
}
