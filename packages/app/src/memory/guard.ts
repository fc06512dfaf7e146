/**
 * The memory guard: before decoding, from the length, sample rate and channels the container
 * declares (or, where it declares no length, from what is decoded), estimate the analysis' peak
 * and compare it with the container limit.
 *
 * estimated peak = RSS now (the upload already in it)
 *                + baseMb                                     (what any analysis adds: its threads' stacks and scratch)
 *                + mbPerAudioMinute × audio minutes          (the analysis at its own fixed rate)
 *                + signalCopies × the decoded signal's bytes  (float32 at the file's own rate and channels)
 *
 * The signal's part is what makes the estimate right across recordings: the analysis runs on a
 * mono signal at a fixed rate whatever the file, but the decode and the resampling hold the signal
 * at the file's own rate and channels. A single figure per audio minute (this guard's first form,
 * 70 MB) was twice too high for 44.1 kHz and too low for 96 and 192 kHz recordings, which the guard
 * then let through to an OOM kill. `npx pnpm@10.34.9 bench:guard` measures the service's peak in a
 * memory cgroup against this estimate, take by take (the packages/app README has the figures).
 * Refusing at 95 % of the limit leaves room for the rest of the process.
 */

export type GuardMode = 'off' | 'warn' | 'reject';
export const GUARD_MODES: readonly GuardMode[] = ['off', 'warn', 'reject'];
export const GUARD_LIMIT_SHARE = 0.95;
export const DEFAULT_GUARD_BASE_MB = 80;
export const DEFAULT_GUARD_MB_PER_MINUTE = 30;
export const DEFAULT_GUARD_SIGNAL_COPIES = 1.5;
const FLOAT32_BYTES = 4;
const MB = 1024 * 1024;

export interface GuardSettings {
  mode: GuardMode;
  /** What any analysis adds, however short (MEMORY_GUARD_BASE_MB). */
  baseMb: number;
  /** The analysis' own memory per audio minute (MEMORY_GUARD_MB_PER_MINUTE). */
  mbPerAudioMinute: number;
  /** Copies of the decoded signal, at the file's rate and channels, held at once (MEMORY_GUARD_SIGNAL_COPIES). */
  signalCopies: number;
  /** The container limit the service sees (null: none, and the guard cannot judge). */
  limitBytes: number | null;
}

/** The shape of the audio the guard judges: what the container declares, or what was decoded. */
export interface SignalShape {
  sampleRate: number;
  channels: number;
}

/** Where the container says nothing of its shape: 48 kHz stereo, above what most recordings are. */
export const ASSUMED_SHAPE: SignalShape = { sampleRate: 48_000, channels: 2 };

export interface GuardVerdict {
  audioSeconds: number;
  rssBytes: number;
  estimatedPeakBytes: number;
  limitBytes: number;
  /** The estimated peak passes 95 % of the limit. */
  atRisk: boolean;
}

/** Bytes the estimate adds per second of audio of this shape. */
function bytesPerAudioSecond(shape: SignalShape, settings: GuardSettings): number {
  return (settings.mbPerAudioMinute * MB) / 60 + settings.signalCopies * FLOAT32_BYTES * shape.sampleRate * shape.channels;
}

export function judgeMemory(audioSeconds: number, shape: SignalShape, rssBytes: number, settings: GuardSettings): GuardVerdict | null {
  if (settings.mode === 'off' || settings.limitBytes === null) return null;
  const estimatedPeakBytes = rssBytes + settings.baseMb * MB + bytesPerAudioSecond(shape, settings) * audioSeconds;
  return { audioSeconds, rssBytes, estimatedPeakBytes, limitBytes: settings.limitBytes, atRisk: estimatedPeakBytes > settings.limitBytes * GUARD_LIMIT_SHARE };
}

/** The most audio seconds of this shape the guard lets through with `rssBytes` in use now (Infinity when it cannot judge). */
export function guardSeconds(rssBytes: number, shape: SignalShape, settings: GuardSettings): number {
  if (settings.mode === 'off' || settings.limitBytes === null) return Infinity;
  return Math.max(0, (settings.limitBytes * GUARD_LIMIT_SHARE - rssBytes - settings.baseMb * MB) / bytesPerAudioSecond(shape, settings));
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

export function describeVerdict(v: GuardVerdict): string {
  return `${(v.audioSeconds / 60).toFixed(1)} minutes of audio would need about ${mb(v.estimatedPeakBytes)} MB at the peak (RSS now ${mb(v.rssBytes)} MB) against a limit of ${mb(v.limitBytes)} MB`;
}
