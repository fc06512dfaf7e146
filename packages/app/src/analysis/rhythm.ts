import { tempoCandidates, trackBeats } from './beat-tracker.js';
import type { OnsetEnvelope } from './onset-envelope.js';

export interface Rhythm {
  bpm: number | null;
  /** 0–1: how regular the detected beat intervals are. */
  confidence: number;
  beats: number[];
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Share of beat intervals within 5 % of the median interval. */
export function beatRegularity(beats: readonly number[]): number {
  if (beats.length < 4) return 0;
  const intervals = beats.slice(1).map((b, i) => b - (beats[i] ?? 0));
  const sorted = [...intervals].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  if (median <= 0) return 0;
  return intervals.filter((d) => Math.abs(d - median) <= 0.05 * median).length / intervals.length;
}

/** Share of onsets within an eighth of a beat's tolerance (a sixteenth) of the eighth-note grid the beats make. */
export function gridFit(beats: readonly number[], onsets: readonly number[]): number {
  if (beats.length < 2 || onsets.length === 0) return 0;
  const grid: number[] = [];
  for (let i = 0; i < beats.length; i++) {
    const b = beats[i] ?? 0;
    const next = beats[i + 1] ?? b + (b - (beats[i - 1] ?? b));
    grid.push(b, (b + next) / 2);
  }
  const from = (beats[0] ?? 0) - 0.1;
  const to = (beats.at(-1) ?? 0) + 0.1;
  let gi = 0;
  let counted = 0;
  let fit = 0;
  for (const t of onsets) {
    if (t < from || t > to) continue;
    while (gi + 1 < grid.length && Math.abs((grid[gi + 1] ?? Infinity) - t) <= Math.abs((grid[gi] ?? Infinity) - t)) gi++;
    const g = grid[gi] ?? t;
    const step = Math.abs((grid[gi + 1] ?? g + 1) - g) || 1;
    counted++;
    if (Math.abs(t - g) <= step / 4) fit++;
  }
  return counted > 0 ? fit / counted : 0;
}

/**
 * Tempo and beats from the onset envelope. Each tempo the envelope repeats at (prior-weighted
 * autocorrelation peaks) is tracked by dynamic programming, and judged by its autocorrelation times
 * how well the played onsets sit on its eighth-note grid (squared): a grid at 2/3 of the tempo, which
 * a strum pattern's accents can make the strongest periodicity, leaves a third of the notes between
 * its lines. Of two octave-related tempi about equally supported the faster is taken (up to 180
 * BPM): the meter step (meter.ts) halves it when the accents say the beat is slower.
 */
export function analyzeRhythm(envelope: OnsetEnvelope, onsets: readonly number[]): Rhythm {
  const { frameRate } = envelope;
  // Frame 0's strength is the rise from the take's quietest level (a note struck as the recording
  // starts): an onset, but an outlier for the tracker (its local score and the meter's accents there
  // have nothing before them), so the tracker reads the envelope from frame 1.
  const strength = Float32Array.from(envelope.strength);
  strength[0] = 0;
  const judged = tempoCandidates(strength, frameRate)
    .slice(0, 5)
    .map((c) => {
      const beats = trackBeats(strength, frameRate, c.bpm).map((f) => f / frameRate);
      const fit = gridFit(beats, onsets);
      return { bpm: c.bpm, beats, value: c.confidence * fit * fit, unweighted: c.periodicity * fit * fit };
    })
    .filter((c) => c.beats.length >= 2)
    .sort((a, b) => b.value - a.value);
  let chosen = judged[0];
  if (!chosen) return { bpm: null, confidence: 0, beats: [] };
  // Judged without the prior: it always favours the slower of 208 and 104.
  const faster = judged.find(
    (c) => Math.abs(c.bpm / (chosen?.bpm ?? 1) - 2) <= 0.06 && c.unweighted >= OCTAVE_TIE * (chosen?.unweighted ?? 0) && c.bpm <= OCTAVE_TIE_MAX_BPM,
  );
  if (faster) chosen = faster;
  const beats = chosen.beats.map((t) => round(t, 3));
  // The tempo from the beats themselves (mean interval, finer than the frames each beat sits on),
  // unless the tracker skipped or doubled a beat somewhere (then the autocorrelation's figure).
  const mean = beats.length >= 2 ? ((beats.at(-1) ?? 0) - (beats[0] ?? 0)) / (beats.length - 1) : 0;
  const bpm = mean > 0 && Math.abs(60 / mean - chosen.bpm) / chosen.bpm < 0.04 ? 60 / mean : chosen.bpm;
  return { bpm: round(bpm, 2), confidence: round(beatRegularity(beats), 3), beats };
}

/** How close (share of the better one's support) an octave-faster tempo must come to be preferred. */
const OCTAVE_TIE = 0.9;
/**
 * The fastest tempo a tie goes to. Above it, even notes are likelier eighths of a moderate tempo
 * than a beat counted that fast: a lick of eighth notes at 100 BPM is, onset for onset, a pulse at
 * 200 (the meter step names the double as a candidate).
 */
const OCTAVE_TIE_MAX_BPM = 180;
