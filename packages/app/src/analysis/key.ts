/**
 * The key, from the per-beat chromas the chords are measured from (no spectrum of its own). A key
 * profile alone cannot tell a key from its relative (E minor and G major use the same seven notes,
 * and a loop like Em–C–G–D sounds G more often than E), so each of the 24 keys is scored on what a
 * musician hears as home:
 *
 * - the profile: the take's pitch-class profile against Krumhansl & Kessler's probe-tone profile;
 * - the scale: how much of what sounds belongs to the key's scale (the key signature: it tells a
 *   key from its parallel and from its neighbours on the circle of fifths, not from its relative);
 * - the harmony bar by bar (the chord each bar's chroma implies, also for a single-note line), in
 *   bars that start where the take starts unless the chords clearly change elsewhere. A repeating
 *   progression is heard as one phrase played over and over: its bars are read from all repetitions
 *   together (a line's few notes a bar imply their chord only loosely), and where in the phrase a
 *   chord sits counts (hypermeter: the phrase's first bar strongest, then the first of its second
 *   half). From it: how much of the phrase rests on the key's tonic chord, whether the phrase starts
 *   on it and the take ends on it, and how often the key's dominant resolves to it (V→I, also from
 *   the loop's last bar back to its first);
 * - the bass: how often the lowest sounding pitch class on a bar's first beat is the tonic, the
 *   phrase's strong bars counting more.
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
const W = { profile: 0.6, scale: 1, tonicShare: 0.5, first: 0.4, last: 0.1, cadence: 0.4, bass: 0.5 };
/**
 * How much each pitch class (semitones from the tonic) belongs to the major scale and to the minor.
 * Minor: the natural minor, and half of the raised 7th — the leading tone of its major V, but also
 * the 5th harmonic of the key's own 5th (in B minor, F#'s overtone A#), which every chord holding
 * that 5th sounds faintly: counted whole, it would favour a minor key over its relative major.
 */
const MAJOR_SCALE = [1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1];
const MINOR_SCALE = [1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0.5];
/** Softmax temperature turning scores into confidences. */
const TEMPERATURE = 0.12;
/**
 * A single line's harmony is implied, not heard (a bar's few notes fit several chords): its scores
 * are turned into confidences twice as softly, so its close calls are reported as such.
 */
const LINE_TEMPERATURE = 2 * TEMPERATURE;
/** A bar's chroma implies a triad when it matches one at least this well (cosine). */
const MIN_TRIAD_MATCH = 0.6;
/** Beats quieter than this share of the take's median beat are left out of the bars. */
const QUIET_SHARE = 0.1;
/** A pitch class with at least this share of a beat's chroma counts as a note sounding. */
const NOTE_SHARE = 0.1;
/** How much better (mean chord match per bar, cosine) bars in another phase must read than those starting on the first heard beat. */
const START_PRIOR = 0.1;
/** Loop lengths (bars) a progression is looked for at, shortest first (a 2-bar loop is also a 4-bar one). */
const LOOP_PERIODS = [4, 8];
/** Bars a period apart must repeat at least this far from unrelated bars' likeness towards identical (0–1) to be a loop. */
const LOOP_REPEAT = 0.2;
/** A shorter period is the loop when it repeats at least this share as clearly as the best. */
const SHORTER_PERIOD_SHARE = 0.5;
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

/** Chord shapes a bar is read as (semitones from the root, the 7th weighed less), each named by its triad. */
const SHAPES = [
  { minor: false, tones: [0, 4, 7], weights: [1, 1, 1] },
  { minor: true, tones: [0, 3, 7], weights: [1, 1, 1] },
  { minor: false, tones: [0, 4, 7, 10], weights: [1, 1, 1, 0.8] },
  { minor: false, tones: [0, 4, 7, 11], weights: [1, 1, 1, 0.8] },
  { minor: true, tones: [0, 3, 7, 10], weights: [1, 1, 1, 0.8] },
].map((s) => ({ ...s, norm: Math.hypot(...s.weights) }));
const TRIAD_SHAPES = SHAPES.filter((s) => s.tones.length === 3);

/**
 * The triad of the chord a chroma matches best (cosine against triads and 7th chords), or null when
 * none matches well. The 7th chords are there because their four notes also spell another triad
 * (Cmaj7's E–G–B is E minor, Am7's C–E–G is C major): read as triads alone they name the wrong chord.
 * Without `sevenths` (a single line, which only implies its chords), triads only: a line's passing
 * note next to a triad would otherwise make it another chord's 7th (C minor with a passing A♭ is
 * A♭maj7).
 */
export function impliedTriad(chroma: ArrayLike<number>, bass = -1, sevenths = true): Triad | null {
  let norm = 0;
  for (let i = 0; i < 12; i++) norm += (chroma[i] ?? 0) ** 2;
  norm = Math.sqrt(norm);
  if (!(norm > 0)) return null;
  let best: Triad | null = null;
  let bestScore = 0;
  for (let root = 0; root < 12; root++) {
    for (const shape of sevenths ? SHAPES : TRIAD_SHAPES) {
      let dot = 0;
      shape.tones.forEach((t, i) => (dot += (chroma[(root + t) % 12] ?? 0) * (shape.weights[i] ?? 1)));
      const cos = dot / (norm * shape.norm);
      const score = cos + (bass === root ? 0.05 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = { root, minor: shape.minor, match: cos };
      }
    }
  }
  return best && best.match >= MIN_TRIAD_MATCH ? best : null;
}

export interface KeyOptions {
  /** Beats per bar (the bars the harmony is read in); 4 unless known. */
  beatsPerBar?: number;
  /**
   * When each chroma's beat starts (seconds) and when the first note was heard: a beat grid can
   * start a beat after the first note, and the bars start with the first note, not the grid.
   */
  beatStarts?: readonly number[];
  firstOnset?: number;
  /** Receives the bars' implied chords and each key's evidence (to see why a key won). */
  trace?: (line: string) => void;
}

const triadName = (t: Triad | null | undefined): string => (t ? `${PITCH_CLASSES[t.root]}${t.minor ? 'm' : ''}` : '-');

const keyName = (tonic: number, minor: boolean): string => `${PITCH_CLASSES[tonic]} ${minor ? 'minor' : 'major'}`;

/**
 * The bar period of a repeating progression (2, 4 or 8 bars), or 0 when the bars do not clearly
 * repeat. Bars a loop's period apart sound alike; bars an odd number of bars apart (where no 2-, 4-
 * or 8-bar loop repeats) show how alike any two bars of the take are anyway (a line's bars share
 * the key's notes), so a period's repetition is measured above that level. A loop also repeats at
 * twice its period, so the shortest period repeating nearly as clearly as the best is the loop.
 */
function loopPeriod(bars: ReadonlyArray<Float64Array | null>): number {
  const similarity = (lag: number): number | null => {
    let sum = 0;
    let n = 0;
    for (let b = 0; b + lag < bars.length; b++) {
      const x = bars[b];
      const y = bars[b + lag];
      if (!x || !y) continue;
      sum += cosine(x, y);
      n++;
    }
    return n ? sum / n : null;
  };
  const odd = [1, 3, 5, 7].map(similarity).filter((x): x is number => x !== null);
  if (odd.length === 0) return 0;
  const base = odd.reduce((a, b) => a + b, 0) / odd.length;
  // How far above the take's general likeness of bars each period repeats (1: exactly).
  const repeats = LOOP_PERIODS.map((period) => {
    // At least two full cycles, so the repetition is heard and not assumed.
    const sim = bars.length >= 2 * period ? similarity(period) : null;
    return sim === null || base >= 1 ? 0 : (sim - base) / (1 - base);
  });
  const best = Math.max(...repeats);
  if (!(best >= LOOP_REPEAT)) return 0;
  const i = repeats.findIndex((r) => r >= best * SHORTER_PERIOD_SHARE);
  return LOOP_PERIODS[i] ?? 0;
}

/** The pitch class counted most often (the lowest of a tie), or -1 when none was counted. */
function commonest(counts: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < 12; i++) if ((counts[i] ?? 0) > 0 && (best < 0 || (counts[i] ?? 0) > (counts[best] ?? 0))) best = i;
  return best;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < 12; i++) {
    ab += (a[i] ?? 0) * (b[i] ?? 0);
    aa += (a[i] ?? 0) ** 2;
    bb += (b[i] ?? 0) ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * How strong a bar is in its phrase (hypermeter): the phrase's first bar strongest, then the bars
 * starting its halves, then the rest — as beat 1 of a bar outweighs beat 3, and beat 3 beat 2.
 */
function hypermetricWeight(position: number): number {
  if (position === 0) return 2;
  return position % 2 === 0 ? 1.5 : 1;
}

/**
 * The phase (beat index modulo the bar) where bars are expected to start: the first heard beat's,
 * or, when the first note came up to a bar before that beat (the beat grid starting late), the
 * phase of the beat the first note fell on.
 */
function expectedStartPhase(chromas: readonly BeatChroma[], quiet: number, perBar: number, options: KeyOptions): number {
  const firstHeard = Math.max(0, chromas.findIndex((c) => c.energy > quiet));
  const starts = options.beatStarts;
  const at = starts?.[firstHeard];
  const next = starts?.[firstHeard + 1];
  let early = 0;
  if (starts && at !== undefined && next !== undefined && next > at && options.firstOnset !== undefined) {
    const beats = Math.round((at - options.firstOnset) / (next - at));
    if (beats > 0 && beats < perBar) early = beats;
  }
  return (((firstHeard - early) % perBar) + perBar) % perBar;
}

/** Each key's score from one view of the chromas (`pick`). */
function scoreKeys(chromas: readonly BeatChroma[], pick: (c: BeatChroma) => Float32Array, options: KeyOptions, line: boolean): Array<{ tonic: number; minor: boolean; score: number }> | null {
  const total = new Float64Array(12);
  for (const c of chromas) for (let i = 0; i < 12; i++) total[i] = (total[i] ?? 0) + (pick(c)[i] ?? 0);
  if (!(total.reduce((a, b) => a + b, 0) > 0)) return null;

  // The harmony bar by bar, in the bar phase where the bars' chromas read most clearly as chords.
  const perBar = Math.max(1, Math.round(options.beatsPerBar ?? 4));
  // Bars much quieter than the take's median beat (before the first note, a reverb tail) say nothing.
  const energies = chromas.map((c) => c.energy).sort((a, b) => a - b);
  const quiet = (energies[Math.floor(energies.length / 2)] ?? 0) * QUIET_SHARE;
  let bars: Array<Triad | null> = [];
  let barChromas: Array<Float64Array | null> = [];
  let barBasses: number[] = [];
  let downbeatBass: number[] = [];
  let clearest = -Infinity;
  // A take starts on a bar's first beat unless it starts with a pickup: the phase of the first heard
  // beat is where the bars are expected to start, another phase has to read clearly better as chords.
  const startPhase = expectedStartPhase(chromas, quiet, perBar, options);
  for (let phase = 0; phase < perBar; phase++) {
    const read: Array<Triad | null> = [];
    const sums: Array<Float64Array | null> = [];
    const basses: number[] = [];
    const lows: number[] = [];
    let clarity = 0;
    // Whole bars only (a partial bar at either end mixes what comes before and after), except the
    // bar the take starts in when the beat grid starts inside it: the phrase starts there.
    const opening = phase > 0 && phase === startPhase;
    for (let b = opening ? phase - perBar : phase; b + perBar <= chromas.length; b += perBar) {
      const sum = new Float64Array(12);
      const low = new Float64Array(12);
      let loud = 0;
      for (const c of chromas.slice(Math.max(0, b), b + perBar)) {
        if (c.energy <= quiet) continue;
        loud++;
        for (let i = 0; i < 12; i++) sum[i] = (sum[i] ?? 0) + (pick(c)[i] ?? 0);
        if (c.bass >= 0) low[c.bass] = (low[c.bass] ?? 0) + 1;
      }
      if (b < 0 ? loud === 0 : loud * 2 < perBar) {
        read.push(null);
        sums.push(null);
        basses.push(-1);
        lows.push(-1);
        continue;
      }
      const downbeat = b >= 0 ? chromas[b] : undefined;
      lows.push(downbeat && downbeat.energy > quiet ? downbeat.bass : -1);
      const barBass = commonest(low);
      const triad = impliedTriad(sum, barBass, !line);
      clarity += triad?.match ?? 0;
      read.push(triad);
      sums.push(sum);
      basses.push(barBass);
    }
    const clearness = (read.length ? clarity / read.length : 0) + (phase === startPhase ? START_PRIOR : 0);
    if (clearness > clearest) {
      clearest = clearness;
      bars = read;
      barChromas = sums;
      barBasses = basses;
      downbeatBass = lows;
    }
  }
  // Leading silence says nothing about where the phrase starts: the phrases start with the first heard bar.
  const firstBar = bars.findIndex((t) => t !== null);
  if (firstBar > 0) {
    bars = bars.slice(firstBar);
    barChromas = barChromas.slice(firstBar);
    barBasses = barBasses.slice(firstBar);
    downbeatBass = downbeatBass.slice(firstBar);
  }
  options.trace?.('bars ' + bars.map(triadName).join(' '));
  // A repeating progression (a loop, as most songs and practice takes are) is heard as one phrase
  // played over and over: its bars are read from all repetitions together (a line's notes only
  // imply their chord, and a single bar's few notes often imply the wrong one), and where in the
  // phrase a chord sits matters — a phrase starts (and comes home) on the tonic. Without a clear
  // loop, the whole take is the phrase.
  const period = loopPeriod(barChromas);
  let phrase: Array<Triad | null> = bars;
  if (period > 0) {
    phrase = [];
    for (let p = 0; p < period; p++) {
      const sum = new Float64Array(12);
      const low = new Float64Array(12);
      for (let b = p; b < barChromas.length; b += period) {
        const bar = barChromas[b];
        if (bar) for (let i = 0; i < 12; i++) sum[i] = (sum[i] ?? 0) + (bar[i] ?? 0);
        const bass = barBasses[b] ?? -1;
        if (bass >= 0) low[bass] = (low[bass] ?? 0) + 1;
      }
      // The bass these bars share most often, as for a single bar (D–F#–A–B over a D bass is D, not
      // Bm7); a single line's lowest note is the tune's, not a bass.
      phrase.push(line ? impliedTriad(sum, -1, false) : impliedTriad(sum, commonest(low)));
    }
  }
  options.trace?.(`phrase (${period ? `a ${period}-bar loop` : 'no loop'}) ` + phrase.map(triadName).join(' '));
  const heard = bars.filter((t): t is Triad => t !== null);
  const last = heard.at(-1);
  const phraseWeights = phrase.map((_t, p) => (period > 0 ? hypermetricWeight(p) : p === 0 ? 2 : 1));
  const phraseWeight = phraseWeights.reduce((a, b) => a + b, 0);
  const phrases = Math.max(1, phrase.length / 4);
  // The bass on each bar's first beat, the phrase's strong bars counting more.
  const bassWeights = downbeatBass.map((pc, b) => (pc < 0 ? 0 : period > 0 ? hypermetricWeight(b % period) : 1));
  const bassWeight = bassWeights.reduce((a, b) => a + b, 0);
  const totalMass = total.reduce((a, b) => a + b, 0);

  const scored: Array<{ tonic: number; minor: boolean; score: number }> = [];
  for (let tonic = 0; tonic < 12; tonic++) {
    for (const minor of [false, true]) {
      const isTonic = (t: Triad | null | undefined): number => (t && t.root === tonic && t.minor === minor ? 1 : 0);
      const isDominant = (t: Triad | null | undefined): boolean => !!t && t.root === (tonic + 7) % 12 && !t.minor;
      const profile = correlation(total, minor ? KK_MINOR : KK_MAJOR, tonic);
      // The tonic chord's share of the phrase, its strong bars counting more.
      const tonicShare = phrase.reduce((a, t, p) => a + isTonic(t) * (phraseWeights[p] ?? 1), 0) / (phraseWeight || 1);
      // V→I, also from the loop's last bar back to its first.
      let cadences = 0;
      for (let i = 0; i < phrase.length; i++) {
        const next = period > 0 ? phrase[(i + 1) % phrase.length] : phrase[i + 1];
        if (isDominant(phrase[i])) cadences += isTonic(next);
      }
      const cadence = Math.min(1, cadences / phrases);
      const bassTonic = bassWeight > 0 ? downbeatBass.reduce((a, pc, b) => a + (pc === tonic ? (bassWeights[b] ?? 0) : 0), 0) / bassWeight : 0;
      // The share of what sounds that belongs to the key's scale: the key signature's evidence,
      // which tells a key from its parallel (three notes apart) and from the next key round the
      // circle of fifths (one note apart).
      const membership = minor ? MINOR_SCALE : MAJOR_SCALE;
      let inScale = 0;
      for (let step = 0; step < 12; step++) inScale += (total[(tonic + step) % 12] ?? 0) * (membership[step] ?? 0);
      const scale = totalMass > 0 ? inScale / totalMass : 0;
      const f = { profile, scale, tonicShare, first: isTonic(phrase[0]), last: isTonic(last), cadence, bass: bassTonic };
      const score = W.profile * f.profile + W.scale * f.scale + W.tonicShare * f.tonicShare + W.first * f.first + W.last * f.last + W.cadence * f.cadence + W.bass * f.bass;
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
  const line = scoreKeys(chromas, (c) => c.pitches, options, true);
  const chordal = scoreKeys(chromas, (c) => c.chordPitches, options, false);
  const counts = chromas.filter((c) => c.energy > 0).map((c) => c.pitches.filter((v) => v >= NOTE_SHARE).length).sort((a, b) => a - b);
  const notesPerBeat = counts[Math.floor(counts.length / 2)] ?? 0;
  options.trace?.(`notes per beat ${notesPerBeat}`);
  const chosen = notesPerBeat >= CHORD_NOTES ? chordal : line;
  if (!chosen) return null;
  const scored = chosen;
  scored.sort((a, b) => b.score - a.score);
  const top = scored[0]?.score ?? 0;
  const temperature = chosen === chordal ? TEMPERATURE : LINE_TEMPERATURE;
  const weights = scored.map((s) => Math.exp((s.score - top) / temperature));
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
