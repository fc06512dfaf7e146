/**
 * The key, from the per-beat chromas the chords are measured from (no spectrum of its own). A key
 * profile alone cannot tell a key from its relative (E minor and G major use the same seven notes,
 * and a loop like Em–C–G–D sounds G more often than E), so each of the 24 keys is scored on what a
 * musician hears as home:
 *
 * - the profile: the take's pitch-class profile against Krumhansl & Kessler's probe-tone profile;
 * - the harmony bar by bar (the chord each bar's chroma implies, also for a single-note line): how
 *   many bars rest on the key's tonic chord, whether the take starts and ends on it, and how often
 *   the key's dominant (V or V7, with its leading tone) resolves to it;
 * - the bass: how often the lowest sounding pitch class on a bar's first beat is the tonic.
 *
 * A single line is read without its overtones, chords with only their strongest peaks as
 * fundamentals (see estimateKey).
 * The scores become confidences (a softmax), so a close call is reported as one: the next readings
 * come with their confidences.
 */
import { PITCH_CLASSES, type BeatChroma } from './chords.js';

export interface KeyCandidate {
  name: string;
  /** 0–1; the candidates' confidences (with the reported key's) sum to at most 1. */
  confidence: number;
}

export interface KeyAnswer {
  tonic: string;
  scale: string;
  name: string;
  /** The reported key's confidence, 0–1. */
  strength: number;
  /** The next most likely readings, best first. */
  alternatives: string[];
  /** The reported key and the next readings with their confidences, best first. */
  candidates: KeyCandidate[];
}

/** Krumhansl & Kessler's probe-tone profiles (from the tonic upwards). */
const KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88];
const KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];

/** Weights of the evidence (profile correlation is −1..1; the others 0..1). */
const W = { profile: 0.6, tonicShare: 0.5, first: 0.4, last: 0.1, cadence: 0.4, bass: 0.5 };
/** Softmax temperature turning scores into confidences. */
const TEMPERATURE = 0.12;
/** A bar's chroma implies a triad when it matches one at least this well (cosine). */
const MIN_TRIAD_MATCH = 0.6;
/** Beats quieter than this share of the take's median beat are left out of the bars. */
const QUIET_SHARE = 0.1;
/** A pitch class with at least this share of a beat's chroma counts as a note sounding. */
const NOTE_SHARE = 0.1;
/** A take whose beats sound this many notes (median) is read as chords, fewer as a line. */
const CHORD_NOTES = 3;

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

interface Triad {
  root: number;
  minor: boolean;
  /** How well the chroma matches it (cosine). */
  match: number;
}

/** The major or minor triad a chroma matches best (cosine), or null when none matches well. */
export function impliedTriad(chroma: ArrayLike<number>, bass = -1): Triad | null {
  let norm = 0;
  for (let i = 0; i < 12; i++) norm += (chroma[i] ?? 0) ** 2;
  norm = Math.sqrt(norm);
  if (!(norm > 0)) return null;
  let best: Triad | null = null;
  let bestScore = 0;
  for (let root = 0; root < 12; root++) {
    for (const minor of [false, true]) {
      const cos = ((chroma[root] ?? 0) + (chroma[(root + (minor ? 3 : 4)) % 12] ?? 0) + (chroma[(root + 7) % 12] ?? 0)) / (norm * Math.sqrt(3));
      const score = cos + (bass === root ? 0.05 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = { root, minor, match: cos };
      }
    }
  }
  return best && best.match >= MIN_TRIAD_MATCH ? best : null;
}

export interface KeyOptions {
  /** Beats per bar (the bars the harmony is read in); 4 unless known. */
  beatsPerBar?: number;
  /** Receives the bars' implied chords and each key's evidence (to see why a key won). */
  trace?: (line: string) => void;
}

const keyName = (tonic: number, minor: boolean): string => `${PITCH_CLASSES[tonic]} ${minor ? 'minor' : 'major'}`;

/** Each key's score from one view of the chromas (`pick`). */
function scoreKeys(chromas: readonly BeatChroma[], pick: (c: BeatChroma) => Float32Array, options: KeyOptions): Array<{ tonic: number; minor: boolean; score: number }> | null {
  const total = new Float64Array(12);
  for (const c of chromas) for (let i = 0; i < 12; i++) total[i] = (total[i] ?? 0) + (pick(c)[i] ?? 0);
  if (!(total.reduce((a, b) => a + b, 0) > 0)) return null;

  // The harmony bar by bar, in the bar phase where the bars' chromas read most clearly as chords.
  const perBar = Math.max(1, Math.round(options.beatsPerBar ?? 4));
  // Bars much quieter than the take's median beat (before the first note, a reverb tail) say nothing.
  const energies = chromas.map((c) => c.energy).sort((a, b) => a - b);
  const quiet = (energies[Math.floor(energies.length / 2)] ?? 0) * QUIET_SHARE;
  let bars: Array<Triad | null> = [];
  let downbeatBass: number[] = [];
  let clearest = -1;
  for (let phase = 0; phase < perBar; phase++) {
    const read: Array<Triad | null> = [];
    const lows: number[] = [];
    let clarity = 0;
    // Whole bars only: a partial bar at either end mixes what comes before and after.
    for (let b = phase; b + perBar <= chromas.length; b += perBar) {
      const sum = new Float64Array(12);
      const low = new Float64Array(12);
      let loud = 0;
      for (const c of chromas.slice(b, b + perBar)) {
        if (c.energy <= quiet) continue;
        loud++;
        for (let i = 0; i < 12; i++) sum[i] = (sum[i] ?? 0) + (pick(c)[i] ?? 0);
        if (c.bass >= 0) low[c.bass] = (low[c.bass] ?? 0) + 1;
      }
      if (loud * 2 < perBar) {
        read.push(null);
        continue;
      }
      const downbeat = chromas[b];
      if (downbeat && downbeat.energy > quiet && downbeat.bass >= 0) lows.push(downbeat.bass);
      let barBass = -1;
      for (let i = 0; i < 12; i++) if ((low[i] ?? 0) > 0 && (barBass < 0 || (low[i] ?? 0) > (low[barBass] ?? 0))) barBass = i;
      const triad = impliedTriad(sum, barBass);
      clarity += triad?.match ?? 0;
      read.push(triad);
    }
    if (clarity > clearest) {
      clearest = clarity;
      bars = read;
      downbeatBass = lows;
    }
  }
  options.trace?.('bars ' + bars.map((t) => (t ? `${PITCH_CLASSES[t.root]}${t.minor ? 'm' : ''}` : '-')).join(' '));
  const heard = bars.filter((t): t is Triad => t !== null);
  const first = heard[0];
  const last = heard.at(-1);
  const phrases = Math.max(1, heard.length / 4);

  const scored: Array<{ tonic: number; minor: boolean; score: number }> = [];
  for (let tonic = 0; tonic < 12; tonic++) {
    for (const minor of [false, true]) {
      const isTonic = (t: Triad | null | undefined): number => (t && t.root === tonic && t.minor === minor ? 1 : 0);
      const isDominant = (t: Triad | null | undefined): boolean => !!t && t.root === (tonic + 7) % 12 && !t.minor;
      const profile = correlation(total, minor ? KK_MINOR : KK_MAJOR, tonic);
      const tonicShare = heard.length ? heard.reduce((a, t) => a + isTonic(t), 0) / heard.length : 0;
      let cadences = 0;
      for (let i = 0; i + 1 < bars.length; i++) if (isDominant(bars[i])) cadences += isTonic(bars[i + 1]);
      const cadence = Math.min(1, cadences / phrases);
      const bassTonic = downbeatBass.length ? downbeatBass.filter((pc) => pc === tonic).length / downbeatBass.length : 0;
      const f = { profile, tonicShare, first: isTonic(first), last: isTonic(last), cadence, bass: bassTonic };
      const score = W.profile * f.profile + W.tonicShare * f.tonicShare + W.first * f.first + W.last * f.last + W.cadence * f.cadence + W.bass * f.bass;
      options.trace?.(`${keyName(tonic, minor).padEnd(9)} ${score.toFixed(3)} ` + JSON.stringify(f, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v)));
      scored.push({ tonic, minor, score });
    }
  }
  return scored;
}

/**
 * The key of a take from its per-beat chromas (in order), or null when nothing pitched was heard.
 * A single line (fewer than CHORD_NOTES notes a beat) is read without any overtones (its 3rd and
 * 5th harmonics would add a fifth and a major third); chords with only the strongest peaks taken as
 * fundamentals (their fifths are often also the roots' 3rd harmonics, and are played).
 */
export function estimateKey(chromas: readonly BeatChroma[], options: KeyOptions = {}): KeyAnswer | null {
  const line = scoreKeys(chromas, (c) => c.pitches, options);
  const chordal = scoreKeys(chromas, (c) => c.chordPitches, options);
  const counts = chromas.filter((c) => c.energy > 0).map((c) => c.pitches.filter((v) => v >= NOTE_SHARE).length).sort((a, b) => a - b);
  const notesPerBeat = counts[Math.floor(counts.length / 2)] ?? 0;
  options.trace?.(`notes per beat ${notesPerBeat}`);
  const chosen = notesPerBeat >= CHORD_NOTES ? chordal : line;
  if (!chosen) return null;
  const scored = chosen;
  scored.sort((a, b) => b.score - a.score);
  const top = scored[0]?.score ?? 0;
  const weights = scored.map((s) => Math.exp((s.score - top) / TEMPERATURE));
  const sum = weights.reduce((a, b) => a + b, 0);
  const candidates = scored.slice(0, 4).map((s, i) => ({ name: keyName(s.tonic, s.minor), confidence: Number(((weights[i] ?? 0) / sum).toFixed(3)) }));
  const best = scored[0] ?? { tonic: 0, minor: false };
  return {
    tonic: PITCH_CLASSES[best.tonic] ?? 'C',
    scale: best.minor ? 'minor' : 'major',
    name: keyName(best.tonic, best.minor),
    strength: candidates[0]?.confidence ?? 0,
    alternatives: candidates.slice(1).map((c) => c.name),
    candidates,
  };
}
