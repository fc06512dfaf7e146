/**
 * Scores an analysis against a take's truth the way a musician would judge it: the tempo (octave
 * errors named apart), the key (relative and parallel mistakes named apart), the tuning, the chord
 * of each bar (a 7th counts when its triad is right), whether the chords fit the reported key, and
 * how many of the lead's notes were found.
 */
import type { TakeTruth } from './takes.js';

const PCS: Record<string, number> = { C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11 };

export type TempoVerdict = 'ok' | 'half' | 'double' | 'other' | 'none';
export type KeyVerdict = 'ok' | 'relative' | 'parallel' | 'fifth' | 'other' | 'none';

/** What the scorer needs from an answer (the service's response or another analyser's). */
export interface ScoredAnswer {
  bpm: number | null;
  key: string | null;
  cents: number | null;
  chords?: Array<{ start: number; end: number; chord: string }>;
  notes: Array<{ onset: number; midi: number }>;
  beats?: number[];
  within30?: number | null;
}

export interface Score {
  tempo: TempoVerdict;
  key: KeyVerdict;
  tuningError: number | null;
  chordsPerBar: number | null;
  chordsOutsideKey: number | null;
  leadRecall: number | null;
  leadOctaveErrors: number;
  /** Median signed distance from each true beat to the nearest reported beat, ms (positive: late). */
  beatOffsetMs: number | null;
}

export function tempoVerdict(bpm: number | null, truth: number): TempoVerdict {
  if (bpm === null || !(bpm > 0)) return 'none';
  if (Math.abs(bpm - truth) <= 2) return 'ok';
  if (Math.abs(bpm - truth / 2) <= Math.max(1, truth * 0.015)) return 'half';
  if (Math.abs(bpm - truth * 2) <= truth * 0.03) return 'double';
  return 'other';
}

function parseKey(name: string): { pc: number; minor: boolean } | null {
  const m = /^([A-G][#b]?)\s*(major|minor|maj|min|m)?$/i.exec(name.trim());
  if (!m) return null;
  const pc = PCS[m[1] ?? ''];
  if (pc === undefined) return null;
  return { pc, minor: /^min|^m$/i.test(m[2] ?? '') };
}

export function keyVerdict(reported: string | null, truth: string): KeyVerdict {
  const r = reported ? parseKey(reported) : null;
  const t = parseKey(truth);
  if (!r || !t) return 'none';
  if (r.pc === t.pc && r.minor === t.minor) return 'ok';
  if (r.pc === t.pc) return 'parallel';
  if (r.minor !== t.minor && (t.minor ? (t.pc + 3) % 12 === r.pc : (t.pc + 9) % 12 === r.pc)) return 'relative';
  if (r.minor === t.minor && ((r.pc - t.pc + 12) % 12 === 7 || (r.pc - t.pc + 12) % 12 === 5)) return 'fifth';
  return 'other';
}

/** Root pitch class and minor flag of a chord's triad ("Am7" → A minor, "G7" → G major). */
export function parseTriad(chord: string): { pc: number; minor: boolean } | null {
  const m = /^([A-G][#b]?)(m(?!aj))?/.exec(chord);
  if (!m) return null;
  const pc = PCS[m[1] ?? ''];
  return pc === undefined ? null : { pc, minor: m[2] === 'm' };
}

/** Triads that belong to a key: the diatonic ones, and in minor also the major V (harmonic minor). */
export function fitsKey(chord: string, key: string): boolean {
  const c = parseTriad(chord);
  const k = parseKey(key);
  if (!c || !k) return false;
  const degree = (c.pc - k.pc + 12) % 12;
  const allowed: Array<[number, boolean]> = k.minor
    ? [[0, true], [3, false], [5, true], [7, true], [7, false], [8, false], [10, false]]
    : [[0, false], [2, true], [4, true], [5, false], [7, false], [9, true]];
  return allowed.some(([d, minor]) => d === degree && minor === c.minor);
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
};

export function scoreAnswer(truth: TakeTruth, answer: ScoredAnswer): Score {
  let chordsPerBar: number | null = null;
  let chordsOutsideKey: number | null = null;
  if (answer.chords) {
    let right = 0;
    for (const bar of truth.chords) {
      // The reported chord covering most of the bar's middle.
      const from = bar.start + (bar.end - bar.start) * 0.1;
      const to = bar.end - (bar.end - bar.start) * 0.1;
      let best: { chord: string; overlap: number } | null = null;
      for (const c of answer.chords) {
        const overlap = Math.min(to, c.end) - Math.max(from, c.start);
        if (overlap > 0 && (!best || overlap > best.overlap)) best = { chord: c.chord, overlap };
      }
      const want = parseTriad(bar.triad);
      const got = best ? parseTriad(best.chord) : null;
      if (want && got && want.pc === got.pc && want.minor === got.minor) right++;
    }
    chordsPerBar = truth.chords.length > 0 ? right / truth.chords.length : null;
    chordsOutsideKey = answer.key ? answer.chords.filter((c) => !fitsKey(c.chord, answer.key ?? '')).length : null;
  }
  let leadRecall: number | null = null;
  let leadOctaveErrors = 0;
  if (truth.lead.length > 0) {
    let found = 0;
    for (const n of truth.lead) {
      const near = answer.notes.filter((d) => Math.abs(d.onset - n.onset) <= 0.05);
      if (near.some((d) => d.midi === n.midi)) found++;
      else if (near.some((d) => Math.abs(d.midi - n.midi) === 12)) leadOctaveErrors++;
    }
    leadRecall = found / truth.lead.length;
  }
  let beatOffsetMs: number | null = null;
  if (answer.beats && answer.beats.length > 0 && truth.beats.length > 0) {
    const offsets = truth.beats.map((b) => {
      let nearest = Infinity;
      for (const r of answer.beats ?? []) if (Math.abs(r - b) < Math.abs(nearest)) nearest = r - b;
      return nearest * 1000;
    });
    beatOffsetMs = median(offsets.filter((o) => Math.abs(o) < 250));
  }
  return {
    tempo: tempoVerdict(answer.bpm, truth.bpm),
    key: keyVerdict(answer.key, truth.key),
    tuningError: answer.cents === null ? null : answer.cents - truth.cents,
    chordsPerBar,
    chordsOutsideKey,
    leadRecall,
    leadOctaveErrors,
    beatOffsetMs,
  };
}
