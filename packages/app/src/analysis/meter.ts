/**
 * From the beat tracker's pulse to the beat a musician counts: which metrical level is the beat
 * (the tracker often locks onto eighth notes of a slow song, or half notes of a fast one), and where
 * its phase sits (fitted to the played onsets, so a take played on the grid reads on the grid).
 */

export interface TempoCandidate {
  bpm: number;
  /** 0–1, the candidates' confidences sum to 1. */
  confidence: number;
  /** How it relates to the reported tempo. */
  relation: 'reported' | 'half' | 'double';
}

export interface Meter {
  bpm: number;
  beats: number[];
  candidates: TempoCandidate[];
  /** How far the tracker's beats were moved to sit on the played onsets, ms (negative: earlier). */
  phaseShiftMs: number;
}

export interface MeterHints {
  /** The tempo the musician played to (a metronome); decides between half and double. */
  bpm?: number;
  /** Beats per bar (time signature numerator). */
  beatsPerBar?: number;
}

/** Slowest and fastest beat a practising musician counts (outside: the tracker's pulse is another level). */
const SLOWEST_BPM = 50;
const FASTEST_BPM = 200;

/** Accent of each onset: the level of its attack (RMS over 40 ms after it) over the level just before. */
export function onsetAccents(signal: Float32Array, sampleRate: number, onsets: readonly number[]): number[] {
  const span = Math.round(0.04 * sampleRate);
  const rms = (from: number, to: number): number => {
    const a = Math.max(0, from);
    const b = Math.min(signal.length, to);
    if (b <= a) return 0;
    let sum = 0;
    for (let i = a; i < b; i++) sum += (signal[i] ?? 0) ** 2;
    return Math.sqrt(sum / (b - a));
  };
  return onsets.map((t) => {
    const at = Math.round(t * sampleRate);
    const after = rms(at, at + span);
    const before = rms(at - span, at);
    return Math.max(0, after - 0.5 * before);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] ?? 0) : 0;
};

/** Strongest accent within `tolerance` seconds of t (0 if nothing was played there). */
function accentNear(t: number, onsets: readonly number[], accents: readonly number[], tolerance: number): number {
  let best = 0;
  // Onsets are sorted: binary search for the first one at or after t - tolerance.
  let lo = 0;
  let hi = onsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((onsets[mid] ?? 0) < t - tolerance) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < onsets.length && (onsets[i] ?? Infinity) <= t + tolerance; i++) best = Math.max(best, accents[i] ?? 0);
  return best;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Shifts the whole grid by the median signed distance from the onsets to their nearest eighth-grid
 * point (only onsets within a sixteenth of one count), so beats sit where the notes were played.
 */
export function fitPhase(beats: readonly number[], onsets: readonly number[]): { beats: number[]; shift: number } {
  if (beats.length < 2 || onsets.length < 4) return { beats: [...beats], shift: 0 };
  const grid: number[] = [];
  for (let i = 0; i < beats.length; i++) {
    const b = beats[i] ?? 0;
    const next = beats[i + 1] ?? b + (b - (beats[i - 1] ?? b));
    grid.push(b, (b + next) / 2);
  }
  const period = median(beats.slice(1).map((b, i) => b - (beats[i] ?? 0)));
  const offsets: number[] = [];
  let gi = 0;
  for (const t of onsets) {
    while (gi + 1 < grid.length && Math.abs((grid[gi + 1] ?? Infinity) - t) <= Math.abs((grid[gi] ?? Infinity) - t)) gi++;
    const d = t - (grid[gi] ?? t);
    if (Math.abs(d) <= period / 8) offsets.push(d);
  }
  if (offsets.length < 4) return { beats: [...beats], shift: 0 };
  const shift = median(offsets);
  return { beats: beats.map((b) => Math.max(0, b + shift)), shift };
}

/**
 * Chooses the metrical level and fits the phase. Evidence: on the tracker's grid, if every other
 * beat carries clearly stronger accents (down strums, chord tones on the beat, a bass note) the beat
 * is half as fast; if the tracker's beats are slower than a musician counts and the points halfway
 * between them are played as strongly, it is twice as fast. A metronome hint decides outright.
 */
export function chooseMeter(trackerBpm: number, trackerBeats: readonly number[], onsets: readonly number[], accents: readonly number[], hints: MeterHints = {}): Meter {
  let beats = [...trackerBeats];
  let bpm = trackerBpm;
  const round = (x: number, d: number): number => Number(x.toFixed(d));
  let halfScore = 0;
  let doubleScore = 0;
  let strongParity = 0;
  let level: 'reported' | 'half' | 'double' = 'reported';
  let hintDecided = false;
  if (beats.length >= 8 && onsets.length >= 8) {
    const period = 60 / bpm;
    const tol = Math.min(0.05, period / 4);
    const onBeat = beats.map((b) => accentNear(b, onsets, accents, tol));
    const parity = (p: number): { presence: number; accent: number; withSilence: number } => {
      const xs = onBeat.filter((_, i) => i % 2 === p);
      const played = xs.filter((x) => x > 0);
      return { presence: played.length / Math.max(1, xs.length), accent: mean(played), withSilence: mean(xs) };
    };
    const even = parity(0);
    const odd = parity(1);
    const [strong, weak] = even.withSilence >= odd.withSilence ? [even, odd] : [odd, even];
    strongParity = strong === even ? 0 : 1;
    // Two kinds of evidence that the tracker counted eighth notes of a slower beat:
    //  - accents: where both parities are played, every other one is clearly weaker (up strums);
    //  - presence: every other one is played nearly always, the rest often not (quarter notes
    //    with some eighths), and the rarer ones are not the accented ones (a strum pattern that
    //    skips beat 3 leaves its beat 1 the loudest).
    const accentRatio = strong.accent > 0 ? weak.accent / strong.accent : 1;
    const byAccent = accentRatio <= 0.75 && strong.presence >= weak.presence - 0.1;
    const byPresence = strong.presence >= 0.85 && weak.presence <= 0.6 && accentRatio <= 1.05;
    halfScore = byAccent || byPresence ? Math.max(0.5, 1 - accentRatio) : Math.max(0, 1 - accentRatio) / 2;
    const mids = beats.slice(1).map((b, i) => accentNear(((beats[i] ?? b) + b) / 2, onsets, accents, tol / 2));
    const midRatio = mean(onBeat) > 0 ? mean(mids) / mean(onBeat) : 0;
    doubleScore = Math.max(0, Math.min(1, midRatio));
    // In 3/4 (or any odd count) beats do not group in pairs: strong-weak alternation says nothing.
    const halfAllowed = bpm / 2 >= SLOWEST_BPM && (hints.beatsPerBar ?? 4) % 2 === 0;
    const doubleAllowed = bpm * 2 <= FASTEST_BPM;
    const hinted = hints.bpm && hints.bpm > 0 ? hints.bpm : null;
    const pick = hinted
      ? ([
          ['reported', Math.abs(Math.log2(hinted / bpm))],
          ['half', halfAllowed || hinted < SLOWEST_BPM ? Math.abs(Math.log2(hinted / (bpm / 2))) : Infinity],
          ['double', doubleAllowed || hinted > FASTEST_BPM ? Math.abs(Math.log2(hinted / (bpm * 2))) : Infinity],
        ] as const).reduce((a, b) => (b[1] < a[1] ? b : a))[0]
      : halfAllowed && halfScore >= 0.5
        ? 'half'
        : doubleAllowed && bpm < 72 && doubleScore >= 0.8
          ? 'double'
          : 'reported';
    level = pick;
    hintDecided = hinted !== null;
    if (pick === 'half') {
      beats = beats.filter((_, i) => i % 2 === strongParity);
      bpm /= 2;
    } else if (pick === 'double') {
      const doubled: number[] = [];
      beats.forEach((b, i) => {
        doubled.push(b);
        const next = beats[i + 1];
        if (next !== undefined) doubled.push((b + next) / 2);
      });
      beats = doubled;
      bpm *= 2;
    }
  }
  const fitted = fitPhase(beats, onsets);
  // The tempo from the beats themselves (least-squares slope of beat time over beat number): the
  // tracker's own figure is rounded to its tempo bins (165.6 for a band at 168).
  if (fitted.beats.length >= 8) {
    const n = fitted.beats.length;
    const mx = (n - 1) / 2;
    const my = fitted.beats.reduce((a, b) => a + b, 0) / n;
    let num = 0;
    let den = 0;
    fitted.beats.forEach((b, i) => {
      num += (i - mx) * (b - my);
      den += (i - mx) ** 2;
    });
    const period = num / den;
    // Only a steady grid (at most 5 % of the beats stray by more than a tenth of a beat, as a
    // player's spread does; a tracker that lost a beat strays far more) says its tempo this way.
    const strays = fitted.beats.filter((b, i) => Math.abs(b - (my + (i - mx) * period)) >= 0.1 * period).length;
    const steady = strays <= 0.05 * n;
    if (steady && period > 0 && Math.abs(60 / period - bpm) / bpm < 0.04) bpm = 60 / period;
  }
  // Confidences: the chosen level against the reading an octave either side, by how strongly the
  // evidence spoke (a metronome hint speaks for itself); normalised to sum 1.
  const weights = { reported: 1, half: 0.1, double: 0.1 };
  if (hintDecided) {
    weights.half = 0.02;
    weights.double = 0.02;
  } else if (level === 'half') weights.double = Math.max(0.1, 1 - halfScore);
  else if (level === 'double') weights.half = Math.max(0.1, 1 - doubleScore);
  else {
    weights.half = Math.max(0.05, halfScore);
    weights.double = Math.max(0.05, doubleScore / 2);
  }
  const raw = [
    { bpm, w: weights.reported, relation: 'reported' as const },
    { bpm: bpm / 2, w: weights.half, relation: 'half' as const },
    { bpm: bpm * 2, w: weights.double, relation: 'double' as const },
  ];
  const total = raw.reduce((a, r) => a + r.w, 0);
  const candidates = raw
    .map((r) => ({ bpm: round(r.bpm, 2), confidence: round(r.w / total, 2), relation: r.relation }))
    .sort((a, b) => b.confidence - a.confidence);
  return { bpm: round(bpm, 2), beats: fitted.beats.map((b) => round(b, 3)), candidates, phaseShiftMs: round(fitted.shift * 1000, 1) };
}
