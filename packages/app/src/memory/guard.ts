/**
 * The memory guard: after decoding, when the length is known and before the heavy algorithms,
 * estimate the analysis' peak and compare it with the container limit.
 *
 * estimated peak = RSS now (the decoded signal already in it) + mbPerAudioMinute × audio minutes.
 * The default slope, 70 MB per audio minute, is the peak-RSS slope `pnpm bench:analyze` measured
 * (64.5 MB/min with the two-thread analysis), rounded up. Refusing at 95 % of the limit leaves room for the rest of the process.
 */

export type GuardMode = 'off' | 'warn' | 'reject';
export const GUARD_MODES: readonly GuardMode[] = ['off', 'warn', 'reject'];
export const GUARD_LIMIT_SHARE = 0.95;

export interface GuardSettings {
  mode: GuardMode;
  mbPerAudioMinute: number;
  /** The container limit the service sees (null: none, and the guard cannot judge). */
  limitBytes: number | null;
}

export interface GuardVerdict {
  audioSeconds: number;
  rssBytes: number;
  estimatedPeakBytes: number;
  limitBytes: number;
  /** The estimated peak passes 95 % of the limit. */
  atRisk: boolean;
}

export function judgeMemory(audioSeconds: number, rssBytes: number, settings: GuardSettings): GuardVerdict | null {
  if (settings.mode === 'off' || settings.limitBytes === null) return null;
  const estimatedPeakBytes = rssBytes + (settings.mbPerAudioMinute * 1024 * 1024 * audioSeconds) / 60;
  return { audioSeconds, rssBytes, estimatedPeakBytes, limitBytes: settings.limitBytes, atRisk: estimatedPeakBytes > settings.limitBytes * GUARD_LIMIT_SHARE };
}

/** The most audio seconds the guard lets through with `rssBytes` in use now (Infinity when it cannot judge). */
export function guardSeconds(rssBytes: number, settings: GuardSettings): number {
  if (settings.mode === 'off' || settings.limitBytes === null) return Infinity;
  return Math.max(0, ((settings.limitBytes * GUARD_LIMIT_SHARE - rssBytes) / (settings.mbPerAudioMinute * 1024 * 1024)) * 60);
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

export function describeVerdict(v: GuardVerdict): string {
  return `${(v.audioSeconds / 60).toFixed(1)} minutes of audio would need about ${mb(v.estimatedPeakBytes)} MB at the peak (RSS now ${mb(v.rssBytes)} MB) against a limit of ${mb(v.limitBytes)} MB`;
}
