import type { EssentiaApi, EssentiaVector } from './essentia.js';

export interface Key {
  tonic: string;
  scale: string;
  name: string;
  strength: number;
}

/**
 * Key over the whole signal: KeyExtractor with the `edma` profile (right on both full mixes and
 * single-note licks here, where the default profile named the relative major).
 */
export function analyzeKey(essentia: EssentiaApi, signal: EssentiaVector): Key | null {
  const out = essentia.KeyExtractor(signal, true, 4096, 4096, 12, 3500, 60, 25, 0.2, 'edma');
  if (!out.key || !(out.strength > 0)) return null;
  return { tonic: out.key, scale: out.scale, name: `${out.key} ${out.scale}`, strength: Number(out.strength.toFixed(3)) };
}

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
/** essentia names some keys with flats; the response uses sharps throughout (as the chords do). */
const SHARP: Record<string, string> = { Db: 'C#', Eb: 'D#', Gb: 'F#', Ab: 'G#', Bb: 'A#' };

export function sharpKey(key: Key): Key {
  const tonic = SHARP[key.tonic] ?? key.tonic;
  return { ...key, tonic, name: `${tonic} ${key.scale}` };
}

/** Krumhansl & Kessler's probe-tone profiles (from the tonic upwards). */
const KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

function correlation(a: ArrayLike<number>, b: ArrayLike<number>, shift: number): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < 12; i++) {
    ma += a[i] ?? 0;
    mb += b[i] ?? 0;
  }
  ma /= 12;
  mb /= 12;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < 12; i++) {
    const x = (a[(i + shift) % 12] ?? 0) - ma;
    const y = (b[i] ?? 0) - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
}

export interface KeyAnswer extends Key {
  /** The next most likely readings, best first (the relative and parallel keys among them when close). */
  alternatives: string[];
}

/**
 * Settles the key among the readings a key profile confuses: the profile's key, its relative (the
 * same seven notes: E minor and G major) and its parallel (F# minor and F# major). Each is scored by
 * the take's pitch-class profile measured against the detected tuning (Krumhansl–Kessler
 * correlation) and by the chords: how long the key's tonic chord sounds, whether the take starts
 * on it, and how long its dominant 7th sounds (B7 says E, major or minor, as nothing else does; a
 * key implied by a dominant 7th heard is a candidate too). Chords count in proportion to how
 * chord-like the take is (a single-note line only implies its harmony).
 */
export function settleKey(key: Key, chroma: ArrayLike<number>, chords: ReadonlyArray<{ start: number; end: number; chord: string; strength: number }>): KeyAnswer {
  const tonic = NAMES.indexOf(SHARP[key.tonic] ?? key.tonic);
  const minor = key.scale === 'minor';
  const readings = [
    { tonic, minor },
    { tonic: minor ? (tonic + 3) % 12 : (tonic + 9) % 12, minor: !minor },
    { tonic, minor: !minor },
  ];
  const dominantTime = new Float64Array(12); // by the tonic the dominant 7th leads to
  for (const c of chords) {
    const m = /^([A-G]#?)7$/.exec(c.chord);
    const root = m ? NAMES.indexOf(m[1] ?? '') : -1;
    if (root >= 0) dominantTime[(root + 5) % 12] = (dominantTime[(root + 5) % 12] ?? 0) + (c.end - c.start);
  }
  for (let t = 0; t < 12; t++) {
    if ((dominantTime[t] ?? 0) <= 0) continue;
    for (const m of [false, true]) if (!readings.some((r) => r.tonic === t && r.minor === m)) readings.push({ tonic: t, minor: m });
  }
  const chordTime = chords.reduce((a, c) => a + (c.end - c.start), 0);
  const meanStrength = chordTime > 0 ? chords.reduce((a, c) => a + c.strength * (c.end - c.start), 0) / chordTime : 0;
  const chordWeight = Math.max(0, Math.min(1, (meanStrength - 0.8) / 0.1));
  const triads = chords.map((c) => {
    const m = /^([A-G]#?)(m(?!aj))?/.exec(c.chord);
    return m ? { pc: NAMES.indexOf(m[1] ?? ''), minor: m[2] === 'm', seconds: c.end - c.start } : null;
  });
  const first = triads[0];
  const scored = readings.map((k, i) => {
    const profile = correlation(chroma, k.minor ? KK_MINOR : KK_MAJOR, k.tonic);
    const tonicTime = triads.reduce((a, t) => a + (t && t.pc === k.tonic && t.minor === k.minor ? t.seconds : 0), 0);
    const share = chordTime > 0 ? tonicTime / chordTime : 0;
    const starts = first && first.pc === k.tonic && first.minor === k.minor ? 1 : 0;
    const dominant = chordTime > 0 ? (dominantTime[k.tonic] ?? 0) / chordTime : 0;
    // The profile's own reading keeps a small head start.
    return { ...k, score: profile + chordWeight * (0.8 * share + 0.25 * starts + 0.6 * dominant) + (i === 0 ? 0.03 : 0) };
  });
  const name = (k: { tonic: number; minor: boolean }): string => `${NAMES[k.tonic]} ${k.minor ? 'minor' : 'major'}`;
  const order = [...scored].sort((a, b) => b.score - a.score);
  const best = order[0] ?? { tonic, minor };
  return {
    tonic: NAMES[best.tonic] ?? key.tonic,
    scale: best.minor ? 'minor' : 'major',
    name: name(best),
    strength: key.strength,
    alternatives: order.slice(1, 4).map(name),
  };
}
