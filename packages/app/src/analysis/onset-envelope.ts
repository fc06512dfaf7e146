/**
 * The signal's spectral representation, computed once: its log-mel spectrogram (the signal
 * decimated to about 22 kHz, 46 ms Hann frames every 11.6 ms, through the project's JS FFT; each
 * frame's power spectrum is folded into mel bands as it is computed), kept whole, and
 * the onset-strength envelope derived from it (log-mel spectral flux, as librosa's
 * onset_strength). Onsets, tempo and beats all read this envelope; nothing recomputes a spectrum.
 */
import FFT from 'fft.js';
import { windowFrame } from './spectrum.js';

/** Rates above this are halved (repeatedly) before the STFT: onsets and beats live below 11 kHz. */
const DECIMATE_ABOVE_HZ = 32_000;
/**
 * Frame length, seconds (a power of two in samples, at most 10 % longer). 23 ms frames would time a click
 * better (the flux peaks when an attack enters the window: 46 ms frames see a click up to a hop
 * early), but split a strum into one onset per string, and the timing verdict on strummed takes
 * fell from 0.99 to 0.70–0.86; 46 ms frames hear a strum as one onset, as a musician does.
 */
const FRAME_SECONDS = 0.046;
/** Mel bands (HTK scale) between MEL_MIN_HZ and the Nyquist frequency of the decimated signal (capped at MEL_MAX_HZ). */
const MEL_BANDS = 64;
const MEL_MIN_HZ = 30;
const MEL_MAX_HZ = 11_025;
/** Log-power floor below the spectrogram's maximum (librosa's power_to_db top_db). */
const TOP_DB = 80;

export interface OnsetEnvelope {
  /** Onset strength per frame (≥ 0): mean positive log-mel difference to the previous frame, dB. */
  strength: Float32Array;
  /** Log-mel power per frame, dB, band-major within a frame (frame f, band b at f * bands + b). */
  logMel: Float32Array;
  bands: number;
  /** Frames per second; frame i is centred at i / frameRate seconds. */
  frameRate: number;
  /** The signal the STFT read (decimated to `sampleRate`; the input itself when it was not), for whoever needs the whole signal at that rate. */
  signal: Float32Array;
  /** The decimated signal's rate and the STFT's sizes, for whoever reads the spectrogram. */
  sampleRate: number;
  frameSize: number;
  hopSize: number;
}

/**
 * Halves the rate with a 31-tap half-band FIR (Blackman-windowed sinc, cutoff at the new Nyquist
 * frequency): every other tap is zero, so each output costs 16 multiply-adds.
 */
export function decimateByTwo(signal: Float32Array): Float32Array {
  const half = 15;
  const taps = new Float64Array(2 * half + 1);
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const x = k / 2;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const n = (k + half) / (2 * half);
    const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * n) + 0.08 * Math.cos(4 * Math.PI * n);
    taps[k + half] = sinc * blackman;
    sum += sinc * blackman;
  }
  for (let i = 0; i < taps.length; i++) taps[i] = (taps[i] ?? 0) / sum;
  const out = new Float32Array(Math.ceil(signal.length / 2));
  const n = signal.length;
  const centre = taps[half]!;
  // The odd taps (the even ones are zero), nearest first.
  const odd = Float64Array.from({ length: (half + 1) / 2 }, (_, i) => taps[half + 1 + 2 * i]!);
  const pairs = odd.length;
  const tap = (i: number): number => odd[i] ?? 0;
  const [h1, h3, h5, h7, h9, h11, h13, h15] = [tap(0), tap(1), tap(2), tap(3), tap(4), tap(5), tap(6), tap(7)];
  for (let o = 0; o < out.length; o++) {
    const c = 2 * o;
    let acc = centre * signal[c]!;
    if (c - half >= 0 && c + half < n) {
      // Unrolled (the hot loop: one pass over the whole signal).
      acc +=
        h1 * (signal[c - 1]! + signal[c + 1]!) +
        h3 * (signal[c - 3]! + signal[c + 3]!) +
        h5 * (signal[c - 5]! + signal[c + 5]!) +
        h7 * (signal[c - 7]! + signal[c + 7]!) +
        h9 * (signal[c - 9]! + signal[c + 9]!) +
        h11 * (signal[c - 11]! + signal[c + 11]!) +
        h13 * (signal[c - 13]! + signal[c + 13]!) +
        h15 * (signal[c - 15]! + signal[c + 15]!);
    } else {
      for (let i = 0; i < pairs; i++) {
        const k = 2 * i + 1;
        const a = c - k >= 0 ? signal[c - k]! : 0;
        const b = c + k < n ? signal[c + k]! : 0;
        acc += odd[i]! * (a + b);
      }
    }
    out[o] = acc;
  }
  return out;
}

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** Triangular mel filters over the FFT bins, kept sparse: per band its first bin and weights. */
function melFilters(sampleRate: number, frameSize: number, bands: number): Array<{ first: number; weights: Float32Array }> {
  const binHz = sampleRate / frameSize;
  const top = Math.min(MEL_MAX_HZ, sampleRate / 2);
  const lo = hzToMel(MEL_MIN_HZ);
  const hi = hzToMel(top);
  const edges = Array.from({ length: bands + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (bands + 1)));
  const filters: Array<{ first: number; weights: Float32Array }> = [];
  for (let b = 0; b < bands; b++) {
    const left = edges[b] ?? 0;
    const mid = edges[b + 1] ?? 0;
    const right = edges[b + 2] ?? 0;
    // At least the bin nearest the centre, so no band is empty at low rates.
    const first = Math.max(0, Math.min(Math.ceil(left / binHz), Math.round(mid / binHz)));
    const last = Math.min(frameSize / 2, Math.max(Math.floor(right / binHz), Math.round(mid / binHz)));
    const weights = new Float32Array(last - first + 1);
    for (let k = first; k <= last; k++) {
      const hz = k * binHz;
      const w = hz <= mid ? (hz - left) / (mid - left) : (right - hz) / (right - mid);
      weights[k - first] = Math.max(0, Math.min(1, w));
    }
    if (weights.every((w) => w === 0)) weights[Math.round(mid / binHz) - first] = 1;
    // Slaney-style area normalisation: each band weighs its energy per Hz.
    const norm = 2 / (right - left);
    for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] ?? 0) * norm;
    filters.push({ first, weights });
  }
  return filters;
}

/** Where a spectrogram is computed: the (decimated) signal, the STFT's sizes and the buffers its frames fill. */
export interface SpectrogramPlan {
  signal: Float32Array;
  sampleRate: number;
  frameSize: number;
  hopSize: number;
  frames: number;
  logMel: Float32Array;
}

/**
 * Decimates the signal and allocates the spectrogram of `onsetEnvelope`. With `shared`, the signal
 * and the buffers live in shared memory, so another thread can fill part of the frames
 * (`spectrogramFrames`) and the plan can be posted to it.
 */
export function planSpectrogram(signal: Float32Array, sampleRate: number, shared = false): SpectrogramPlan {
  let x = signal;
  let rate = sampleRate;
  while (rate > DECIMATE_ABOVE_HZ) {
    x = decimateByTwo(x);
    rate /= 2;
  }
  const floats = (n: number): Float32Array => (shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n));
  if (shared && !(x.buffer instanceof SharedArrayBuffer)) {
    const copy = floats(x.length);
    copy.set(x);
    x = copy;
  }
  // The largest power of two up to 10 % over FRAME_SECONDS (1024 at 22.05 kHz; 256, 32 ms, at 8 kHz).
  const frameSize = 2 ** Math.floor(Math.log2(1.1 * FRAME_SECONDS * rate));
  const hopSize = frameSize / 4;
  const frames = Math.floor(x.length / hopSize) + 1;
  return { signal: x, sampleRate: rate, frameSize, hopSize, frames, logMel: floats(frames * MEL_BANDS) };
}

/**
 * Fills frames from..to-1 of the plan's log-mel spectrogram (unfloored); returns their
 * loudest log-mel value, dB. Frames are centred (frame i at i hops; the signal is zero-padded at
 * both ends).
 */
export function spectrogramFrames(plan: SpectrogramPlan, from: number, to: number): number {
  const { signal: x, sampleRate: rate, frameSize, hopSize, logMel } = plan;
  const bins = frameSize / 2 + 1;
  // Single precision: the mel sums need no more.
  const power = new Float32Array(bins);
  const window = new Float64Array(frameSize);
  for (let i = 0; i < frameSize; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frameSize);
  const fft = new FFT(frameSize);
  const input = new Float64Array(frameSize);
  const out = new Float64Array(2 * frameSize);
  const filters = melFilters(rate, frameSize, MEL_BANDS);
  const half = frameSize / 2;
  let maxDb = -Infinity;
  const firsts = Int32Array.from(filters, (f) => f.first);
  for (let f = from; f < to; f++) {
    windowFrame(x, f * hopSize - half, window, input);
    fft.realTransform(out, input);
    for (let k = 0; k < bins; k++) {
      const re = out[2 * k]!;
      const im = out[2 * k + 1]!;
      power[k] = re * re + im * im;
    }
    const row = f * MEL_BANDS;
    for (let b = 0; b < MEL_BANDS; b++) {
      const weights = filters[b]!.weights;
      const first = firsts[b]!;
      let e = 0;
      for (let i = 0; i < weights.length; i++) e += weights[i]! * power[first + i]!;
      const db = 10 * Math.log10(e > 1e-10 ? e : 1e-10);
      logMel[row + b] = db;
      if (db > maxDb) maxDb = db;
    }
  }
  return maxDb;
}

/** The floored log-mel spectrogram and the onset-strength envelope of a plan whose frames are all filled (`maxDb`: their loudest log-mel value). */
export function finishEnvelope(plan: SpectrogramPlan, maxDb: number): OnsetEnvelope {
  const { frames, logMel, signal: x, sampleRate: rate, frameSize, hopSize } = plan;
  const floor = maxDb - TOP_DB;
  for (let i = 0; i < logMel.length; i++) if ((logMel[i] ?? 0) < floor) logMel[i] = floor;
  // Frame 0 is compared with each band's quietest level in the take (its own silence or room
  // noise): a note struck as the recording starts is an onset, a recording that starts on room
  // noise or silence has none there.
  const quietest = new Float32Array(MEL_BANDS).fill(Infinity);
  for (let f = 0; f < frames; f++) for (let b = 0; b < MEL_BANDS; b++) quietest[b] = Math.min(quietest[b]!, logMel[f * MEL_BANDS + b]!);
  const strength = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    const row = f * MEL_BANDS;
    const prev = row - MEL_BANDS;
    let s = 0;
    for (let b = 0; b < MEL_BANDS; b++) {
      const d = logMel[row + b]! - (f > 0 ? logMel[prev + b]! : quietest[b]!);
      if (d > 0) s += d;
    }
    strength[f] = s / MEL_BANDS;
  }
  return { strength, logMel, signal: x, bands: MEL_BANDS, frameRate: rate / hopSize, sampleRate: rate, frameSize, hopSize };
}

/**
 * The log-mel spectrogram and onset-strength envelope of a mono signal at any rate (8–384 kHz).
 * Frames are centred (frame i at i hops; the signal is zero-padded at both ends).
 */
export function onsetEnvelope(signal: Float32Array, sampleRate: number): OnsetEnvelope {
  const plan = planSpectrogram(signal, sampleRate);
  return finishEnvelope(plan, spectrogramFrames(plan, 0, plan.frames));
}
