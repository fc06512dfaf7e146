import { createRequire } from 'node:module';

interface Src {
  full(data: Float32Array): Float32Array;
  destroy(): void;
}
interface LibSampleRate {
  create(channels: number, inRate: number, outRate: number, options: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_FASTEST: number; SRC_LINEAR: number };
}

const require = createRequire(import.meta.url);
const libsamplerate = require('@alexanderolsen/libsamplerate-js') as LibSampleRate;
/** The highest rate libsamplerate-js' create() accepts. */
const WRAPPER_MAX_RATE = 192_000;

/**
 * Resamples mono audio with libsamplerate (WebAssembly). Linear interpolation for rates close to
 * the target (48 → 44.1 kHz: what it would alias lies above 22 kHz, where a guitar recording has
 * nothing the analysis uses; 5× faster than sinc), band-limited sinc when reducing the rate by
 * more than a quarter (96 kHz and up), where aliasing would fold audible content down.
 */
export async function resample(signal: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate) return signal;
  const ratio = toRate / fromRate;
  const converterType = ratio < 0.75 ? libsamplerate.ConverterType.SRC_SINC_FASTEST : libsamplerate.ConverterType.SRC_LINEAR;
  // libsamplerate converts by the ratio alone; the JavaScript wrapper refuses rates above 192 kHz,
  // so both rates are scaled down together (384 → 44.1 kHz is converted as 192 → 22.05 kHz).
  const scale = Math.ceil(Math.max(fromRate, toRate) / WRAPPER_MAX_RATE);
  const src = await libsamplerate.create(1, fromRate / scale, toRate / scale, { converterType });
  try {
    return src.full(signal);
  } finally {
    src.destroy();
  }
}
