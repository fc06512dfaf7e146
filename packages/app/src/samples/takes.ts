/**
 * Practice takes described as MIDI, for rendering with real instrument samples (a General MIDI
 * soundfont through FluidSynth), with the truth a musician would check an analysis against:
 * tempo, key, tuning, the chord of every bar, the beat grid and the lead notes.
 *
 * Styles: `strum` (a strummed guitar, chords with 7ths), `lead` (a single-note guitar line alone),
 * `band` (drums, bass, a strummed guitar and a lead guitar).
 * Timing: `quantised` (every note exactly on the grid) or `humanised` (a player's spread and accents).
 * Detuning is a pitch bend on every pitched channel before the first note, as a guitar tuned a few
 * cents off plays every note that far off.
 */
import { midiFile, type MidiEvent } from './midi.js';
import { NOTE_NAMES, type NoteName, type Scale } from './synth.js';
import { seededRandom } from './random.js';

export type TakeStyle = 'strum' | 'lead' | 'band';
export type Guitar = 'nylon' | 'steel' | 'electric';
export type ChordQuality = 'maj' | 'min' | '7' | 'maj7' | 'm7';

export interface TakeSpec {
  name: string;
  style: TakeStyle;
  guitar: Guitar;
  bpm: number;
  tonic: NoteName;
  scale: Scale;
  /** How far the instruments are tuned from A440, in cents. */
  cents: number;
  timing: 'quantised' | 'humanised';
  /** Which of the key's progressions (0–4) the chords follow. */
  progression: number;
  seconds: number;
  seed: number;
}

export interface TakeChord {
  start: number;
  end: number;
  /** e.g. "Am7", "G7", "Cmaj7", "E" */
  name: string;
  /** The triad the chord is built on, e.g. "Am" for Am7, "G" for G7. */
  triad: string;
}

export interface TakeTruth {
  name: string;
  style: TakeStyle;
  bpm: number;
  key: string;
  tonic: NoteName;
  scale: Scale;
  cents: number;
  quantised: boolean;
  /** Beat times in seconds (the grid the take was played to). */
  beats: number[];
  /** One chord per bar (empty for a lead alone: a single line only implies its harmony). */
  chords: TakeChord[];
  /** The lead guitar's notes (empty for strummed takes). */
  lead: Array<{ onset: number; duration: number; midi: number }>;
  seconds: number;
}

const GM_PROGRAM: Record<Guitar, number> = { nylon: 24, steel: 25, electric: 27 };
const BASS_PROGRAM = 33;
const DRUM_CHANNEL = 9;
const INTERVALS: Record<ChordQuality, number[]> = { maj: [0, 4, 7], min: [0, 3, 7], '7': [0, 4, 7, 10], maj7: [0, 4, 7, 11], m7: [0, 3, 7, 10] };
const SUFFIX: Record<ChordQuality, string> = { maj: '', min: 'm', '7': '7', maj7: 'maj7', m7: 'm7' };

/** Chords as [semitones above the tonic, quality], one per bar, looping. */
const PROGRESSIONS: Record<Scale, Array<Array<[number, ChordQuality]>>> = {
  major: [
    [[0, 'maj'], [7, 'maj'], [9, 'min'], [5, 'maj']], // I–V–vi–IV
    [[0, 'maj7'], [9, 'm7'], [2, 'm7'], [7, '7']], // Imaj7–vi7–ii7–V7
    [[0, 'maj'], [5, 'maj'], [7, '7'], [0, 'maj']], // I–IV–V7–I
    [[0, 'maj'], [9, 'min'], [5, 'maj'], [7, 'maj']], // I–vi–IV–V
    [[2, 'm7'], [7, '7'], [0, 'maj7'], [0, 'maj7']], // ii7–V7–Imaj7
  ],
  minor: [
    [[0, 'min'], [5, 'min'], [7, '7'], [0, 'min']], // i–iv–V7–i
    [[0, 'min'], [8, 'maj'], [3, 'maj'], [10, 'maj']], // i–VI–III–VII
    [[0, 'm7'], [5, 'm7'], [7, '7'], [0, 'min']], // i7–iv7–V7–i
    [[0, 'min'], [10, 'maj'], [8, 'maj'], [10, 'maj']], // i–VII–VI–VII (Aeolian: no leading tone)
    [[0, 'min'], [5, 'min'], [10, 'maj'], [3, 'maj']], // i–iv–VII–III (ends on the relative major)
  ],
};
const MAJOR_STEPS = [0, 2, 4, 5, 7, 9, 11];
const MINOR_STEPS = [0, 2, 3, 5, 7, 8, 10];

export function chordName(rootPc: number, quality: ChordQuality): string {
  return `${NOTE_NAMES[((rootPc % 12) + 12) % 12]}${SUFFIX[quality]}`;
}

/** The triad a chord name is built on: "Am7" → "Am", "G7" → "G", "Cmaj7" → "C", "Bbm" stays. */
export function triadOf(chord: string): string {
  const m = /^([A-G][#b]?)(m(?!aj))?/.exec(chord);
  return m ? `${m[1]}${m[2] ?? ''}` : chord;
}

/** A guitar voicing: the root in the bass (E2–D#3), then fifth, octave, third and the 7th or fifth above. */
function voicing(rootPc: number, quality: ChordQuality): number[] {
  const iv = INTERVALS[quality];
  const bass = 40 + ((rootPc - 4 + 12) % 12);
  const third = iv[1] ?? 4;
  const top = iv[3] ?? 7;
  return [bass, bass + 7, bass + 12, bass + 12 + third, bass + 12 + top];
}

/** The MIDI file and the truth of a take. */
export function renderTake(spec: TakeSpec): { midi: Uint8Array; truth: TakeTruth } {
  const rnd = seededRandom(spec.seed);
  const gauss = (): number => (rnd() + rnd() + rnd() - 1.5) * 2; // ~N(0, 1), bounded
  const human = spec.timing === 'humanised';
  const jitter = (sd: number): number => (human ? gauss() * sd : 0);
  const vel = (v: number): number => (human ? v + gauss() * 8 : v);
  const tonicPc = NOTE_NAMES.indexOf(spec.tonic);
  const beat = 60 / spec.bpm;
  const bar = 4 * beat;
  const start = 0.5;
  const bars = Math.max(1, Math.floor((spec.seconds - start - 1) / bar));
  const progs = PROGRESSIONS[spec.scale];
  const prog = progs[spec.progression % progs.length] ?? [];
  const events: MidiEvent[] = [];
  const guitarCh = 0;
  const leadCh = 1;
  const bassCh = 2;
  events.push({ kind: 'program', time: 0, channel: guitarCh, program: GM_PROGRAM[spec.guitar] });
  events.push({ kind: 'program', time: 0, channel: leadCh, program: spec.style === 'band' ? GM_PROGRAM.electric : GM_PROGRAM[spec.guitar] });
  events.push({ kind: 'program', time: 0, channel: bassCh, program: BASS_PROGRAM });
  for (const ch of [guitarCh, leadCh, bassCh]) {
    events.push({ kind: 'bend', time: 0, channel: ch, amount: spec.cents / 200 });
    events.push({ kind: 'control', time: 0, channel: ch, controller: 7, value: 110 });
  }
  const beats: number[] = [];
  for (let b = 0; b < bars * 4; b++) beats.push(Number((start + b * beat).toFixed(4)));
  const chords: TakeChord[] = [];
  const lead: TakeTruth['lead'] = [];
  const strums = spec.style !== 'lead';
  const leads = spec.style !== 'strum';
  // Strum pattern over eighths: D . D U . U D U (down strokes on the beats accented).
  const pattern: Array<[number, 'D' | 'U']> = spec.bpm >= 140 ? [[0, 'D'], [2, 'D'], [4, 'D'], [6, 'D']] : [[0, 'D'], [2, 'D'], [3, 'U'], [5, 'U'], [6, 'D'], [7, 'U']];
  const steps = spec.scale === 'minor' ? MINOR_STEPS : MAJOR_STEPS;
  // The lead's pitch set: the key's scale from E3 to E5.
  const scaleNotes: number[] = [];
  for (let m = 52; m <= 76; m++) if (steps.includes((m - tonicPc + 120) % 12)) scaleNotes.push(m);
  let leadIdx = scaleNotes.findIndex((m) => m % 12 === tonicPc && m >= 57);
  if (leadIdx < 0) leadIdx = Math.floor(scaleNotes.length / 2);
  for (let b = 0; b < bars; b++) {
    const t0 = start + b * bar;
    const [offset, quality] = prog[b % prog.length] ?? [0, 'maj'];
    const rootPc = (tonicPc + offset) % 12;
    const name = chordName(rootPc, quality);
    if (strums) chords.push({ start: Number(t0.toFixed(4)), end: Number((t0 + bar).toFixed(4)), name, triad: triadOf(name) });
    const voice = voicing(rootPc, quality);
    if (strums) {
      for (const [eighth, dir] of pattern) {
        const t = t0 + (eighth * beat) / 2 + jitter(0.012);
        const strings = dir === 'D' ? voice : [...voice].reverse().slice(0, 4);
        const base = spec.style === 'band' ? 70 : 96;
        const accent = dir === 'D' ? (eighth === 0 ? 1 : 0.9) : 0.7;
        strings.forEach((m, i) => {
          events.push({ kind: 'note', time: Math.max(0, t + i * 0.008), duration: beat * 0.45 + (dir === 'D' ? beat * 0.4 : 0), channel: guitarCh, midi: m, velocity: vel(base * accent) });
        });
      }
    }
    if (spec.style === 'band') {
      for (let i = 0; i < 8; i++) {
        const t = t0 + (i * beat) / 2;
        events.push({ kind: 'note', time: t + jitter(0.006), duration: 0.1, channel: DRUM_CHANNEL, midi: 42, velocity: vel(i % 2 === 0 ? 80 : 60) });
        if (i === 0 || i === 4 || (i === 5 && b % 2 === 1)) events.push({ kind: 'note', time: t + jitter(0.006), duration: 0.1, channel: DRUM_CHANNEL, midi: 36, velocity: vel(110) });
        if (i === 2 || i === 6) events.push({ kind: 'note', time: t + jitter(0.006), duration: 0.1, channel: DRUM_CHANNEL, midi: 38, velocity: vel(105) });
      }
      const bassRoot = 28 + ((rootPc - 4 + 12) % 12);
      for (const [q, m] of [[0, bassRoot], [2, bassRoot + 7], [3, bassRoot + 12]] as const) {
        events.push({ kind: 'note', time: t0 + q * beat + jitter(0.008), duration: beat * 0.9, channel: bassCh, midi: m, velocity: vel(100) });
      }
    }
    if (leads) {
      // Each beat a quarter note or two eighths, stepping through the scale, chord tones on the beats.
      let pos = 0;
      let pairLeft = 0;
      const chordPcs = INTERVALS[quality].map((iv) => (rootPc + iv) % 12);
      while (pos < 8) {
        if (pos % 2 === 0) pairLeft = spec.bpm < 150 && rnd() < 0.45 ? 2 : 0;
        const len = pairLeft > 0 ? 1 : 2;
        if (pairLeft > 0) pairLeft--;
        const step = Math.floor(rnd() * 5) - 2 || 1;
        leadIdx = Math.max(0, Math.min(scaleNotes.length - 1, leadIdx + step));
        if (pos % 2 === 0) {
          // Pull to the nearest chord tone on a beat.
          for (const d of [0, 1, -1, 2, -2]) {
            const m = scaleNotes[leadIdx + d];
            if (m !== undefined && chordPcs.includes(m % 12)) {
              leadIdx += d;
              break;
            }
          }
        }
        const midi = scaleNotes[leadIdx] ?? 60;
        const rest = b > 0 && pos === 0 && rnd() < 0.15;
        if (!rest) {
          const onset = t0 + (pos * beat) / 2 + jitter(0.01);
          const duration = ((Math.min(8, pos + len) - pos) * beat) / 2 * 0.92;
          events.push({ kind: 'note', time: onset, duration, channel: leadCh, midi, velocity: vel(spec.style === 'band' ? 112 : 100) });
          lead.push({ onset: Number(onset.toFixed(4)), duration: Number(duration.toFixed(4)), midi });
        }
        pos += len;
      }
    }
  }
  const truth: TakeTruth = {
    name: spec.name,
    style: spec.style,
    bpm: spec.bpm,
    key: `${spec.tonic} ${spec.scale}`,
    tonic: spec.tonic,
    scale: spec.scale,
    cents: spec.cents,
    quantised: !human,
    beats,
    chords,
    lead,
    seconds: spec.seconds,
  };
  return { midi: midiFile(events), truth };
}

const take = (name: string, style: TakeStyle, guitar: Guitar, bpm: number, key: string, cents: number, timing: TakeSpec['timing'], progression: number, seed: number, seconds = 45): TakeSpec => {
  const [tonic, scale] = key.split(' ') as [NoteName, Scale];
  return { name, style, guitar, bpm, tonic, scale, cents, timing, progression, seconds, seed };
};

/**
 * The accuracy set. `tuning` takes are the ones the analysis may be tuned on; `holdout` and
 * `holdout2` takes are only ever measured (different tempi, keys, instruments, seeds; the second
 * set also other progressions: I–vi–IV–V, ii–V–I starting away from the tonic, modal minor without
 * a leading tone, a minor loop ending on the relative major, a steel-string lead); so are the
 * `holdout-band` takes (full-band mixes only, for the lead notes) and the `holdout-key` takes
 * (every tonic, both modes, all progressions, for the key).
 */
export const ACCURACY_TAKES = {
  tuning: [
    take('strum-steel-72-Em-q', 'strum', 'steel', 72, 'E minor', 0, 'quantised', 0, 11),
    take('strum-nylon-100-G-h', 'strum', 'nylon', 100, 'G major', 15, 'humanised', 1, 12),
    take('lead-nylon-72-Am-q', 'lead', 'nylon', 72, 'A minor', 0, 'quantised', 0, 13),
    take('lead-electric-140-D-h', 'lead', 'electric', 140, 'D major', -30, 'humanised', 0, 14),
    take('band-174-Em-h', 'band', 'steel', 174, 'E minor', 0, 'humanised', 1, 15),
    take('band-120-C-q', 'band', 'steel', 120, 'C major', 0, 'quantised', 2, 16),
    take('strum-steel-160-F#m-q', 'strum', 'steel', 160, 'F# minor', 0, 'quantised', 2, 17),
    take('lead-electric-96-Bm-h', 'lead', 'electric', 96, 'B minor', 20, 'humanised', 1, 18),
    take('band-88-A-q', 'band', 'nylon', 88, 'A major', -10, 'quantised', 0, 19),
    take('strum-nylon-60-Dm-h', 'strum', 'nylon', 60, 'D minor', 0, 'humanised', 0, 20),
    take('lead-nylon-88-Gm-q', 'lead', 'nylon', 88, 'G minor', 0, 'quantised', 3, 21),
    take('lead-steel-132-A-h', 'lead', 'steel', 132, 'A major', 0, 'humanised', 4, 22),
    take('lead-electric-112-Dm-q', 'lead', 'electric', 112, 'D minor', -8, 'quantised', 4, 23),
    take('lead-nylon-150-C-h', 'lead', 'nylon', 150, 'C major', 0, 'humanised', 3, 24),
    take('lead-electric-80-E-h', 'lead', 'electric', 80, 'E major', 0, 'humanised', 0, 25),
    take('lead-steel-100-Am-q', 'lead', 'steel', 100, 'A minor', 0, 'quantised', 1, 26),
    take('band-96-D-h', 'band', 'nylon', 96, 'D major', 0, 'humanised', 3, 27),
    take('band-140-Gm-q', 'band', 'steel', 140, 'G minor', 0, 'quantised', 4, 28),
    take('strum-electric-108-C#-q', 'strum', 'electric', 108, 'C# major', 0, 'quantised', 4, 29),
    take('strum-steel-90-Bm-h', 'strum', 'steel', 90, 'B minor', 10, 'humanised', 3, 30),
    take('lead-nylon-66-B-q', 'lead', 'nylon', 66, 'B major', 0, 'quantised', 1, 31),
    take('band-126-F#m-h', 'band', 'electric', 126, 'F# minor', 0, 'humanised', 3, 32),
  ],
  holdout: [
    take('strum-steel-66-C#m-q', 'strum', 'steel', 66, 'C# minor', 0, 'quantised', 2, 101),
    take('strum-electric-132-A#-h', 'strum', 'electric', 132, 'A# major', -25, 'humanised', 0, 102),
    take('lead-nylon-180-E-q', 'lead', 'nylon', 180, 'E major', 0, 'quantised', 2, 103),
    take('lead-electric-64-Fm-h', 'lead', 'electric', 64, 'F minor', 30, 'humanised', 0, 104),
    take('band-150-G-h', 'band', 'steel', 150, 'G major', 0, 'humanised', 1, 105),
    take('band-76-Cm-q', 'band', 'nylon', 76, 'C minor', 12, 'quantised', 0, 106),
    take('strum-steel-112-A-q', 'strum', 'steel', 112, 'A major', 0, 'quantised', 1, 107),
    take('lead-nylon-108-F#m-q', 'lead', 'nylon', 108, 'F# minor', -15, 'quantised', 1, 108),
    take('band-168-Dm-h', 'band', 'electric', 168, 'D minor', 0, 'humanised', 2, 109),
    take('strum-nylon-84-D#-h', 'strum', 'nylon', 84, 'D# major', 0, 'humanised', 2, 110),
  ],
  holdout2: [
    take('strum-nylon-92-Gm-q', 'strum', 'nylon', 92, 'G minor', 0, 'quantised', 3, 301),
    take('strum-electric-126-B-h', 'strum', 'electric', 126, 'B major', 8, 'humanised', 3, 302),
    take('lead-steel-84-C#m-h', 'lead', 'steel', 84, 'C# minor', 0, 'humanised', 4, 303),
    take('lead-electric-156-G#-q', 'lead', 'electric', 156, 'G# major', -20, 'quantised', 1, 304),
    take('band-100-Bm-q', 'band', 'steel', 100, 'B minor', 0, 'quantised', 3, 305),
    take('band-138-F-h', 'band', 'nylon', 138, 'F major', 0, 'humanised', 4, 306),
    take('band-64-Em-q', 'band', 'electric', 64, 'E minor', -12, 'quantised', 0, 307),
    take('strum-steel-144-Fm-h', 'strum', 'steel', 144, 'F minor', 0, 'humanised', 4, 308),
    take('lead-nylon-120-D-h', 'lead', 'nylon', 120, 'D major', 0, 'humanised', 3, 309),
    take('band-180-A#m-h', 'band', 'steel', 180, 'A# minor', 0, 'humanised', 1, 310),
    take('strum-nylon-76-E-q', 'strum', 'nylon', 76, 'E major', 0, 'quantised', 4, 311),
    take('lead-electric-70-Cm-q', 'lead', 'electric', 70, 'C minor', 5, 'quantised', 4, 312),
  ],
  // Band takes only, for the lead-note recall in full mixes: keys, tempi, seeds and detunings no
  // other band take has (measured, never tuned on).
  'holdout-band': [
    take('band-84-E-h', 'band', 'steel', 84, 'E major', 0, 'humanised', 2, 401),
    take('band-116-G#m-q', 'band', 'nylon', 116, 'G# minor', 0, 'quantised', 1, 402),
    take('band-160-C#m-h', 'band', 'electric', 160, 'C# minor', -15, 'humanised', 4, 403),
    take('band-70-D#-q', 'band', 'steel', 70, 'D# major', 0, 'quantised', 1, 404),
    take('band-132-Fm-h', 'band', 'nylon', 132, 'F minor', 8, 'humanised', 3, 405),
    take('band-108-Am-q', 'band', 'electric', 108, 'A minor', 0, 'quantised', 2, 406),
    take('band-152-A#-h', 'band', 'steel', 152, 'A# major', 0, 'humanised', 0, 407),
    take('band-92-B-q', 'band', 'nylon', 92, 'B major', 20, 'quantised', 3, 408),
  ],
  // Held out for the key: every tonic, both modes, all ten progressions, half of them single-note
  // leads (which only imply their harmony), other seeds and tempi.
  'holdout-key': [
    take('lead-nylon-78-F-q', 'lead', 'nylon', 78, 'F major', 0, 'quantised', 0, 401),
    take('lead-steel-104-D#m-h', 'lead', 'steel', 104, 'D# minor', 0, 'humanised', 3, 402),
    take('lead-electric-122-Am-h', 'lead', 'electric', 122, 'A minor', 10, 'humanised', 4, 403),
    take('lead-nylon-92-C#-q', 'lead', 'nylon', 92, 'C# major', 0, 'quantised', 1, 404),
    take('lead-steel-146-Em-q', 'lead', 'steel', 146, 'E minor', -18, 'quantised', 2, 405),
    take('lead-electric-60-G-h', 'lead', 'electric', 60, 'G major', 0, 'humanised', 2, 406),
    take('lead-nylon-134-G#m-h', 'lead', 'nylon', 134, 'G# minor', 0, 'humanised', 0, 407),
    take('lead-steel-116-A#-q', 'lead', 'steel', 116, 'A# major', 22, 'quantised', 4, 408),
    take('lead-electric-100-F#m-q', 'lead', 'electric', 100, 'F# minor', 0, 'quantised', 1, 419),
    take('lead-nylon-86-D-h', 'lead', 'nylon', 86, 'D major', 0, 'humanised', 1, 420),
    take('strum-nylon-70-Bm-q', 'strum', 'nylon', 70, 'B minor', 0, 'quantised', 4, 409),
    take('strum-steel-118-F#-h', 'strum', 'steel', 118, 'F# major', 0, 'humanised', 3, 410),
    take('strum-electric-98-Dm-h', 'strum', 'electric', 98, 'D minor', -12, 'humanised', 1, 411),
    take('strum-nylon-164-G#-q', 'strum', 'nylon', 164, 'G# major', 0, 'quantised', 1, 412),
    take('strum-steel-80-Cm-h', 'strum', 'steel', 80, 'C minor', 0, 'humanised', 0, 418),
    take('band-110-C#m-q', 'band', 'steel', 110, 'C# minor', 0, 'quantised', 3, 413),
    take('band-82-D#-h', 'band', 'electric', 82, 'D# major', 0, 'humanised', 0, 414),
    take('band-152-Fm-h', 'band', 'nylon', 152, 'F minor', 15, 'humanised', 2, 415),
    take('band-94-A#m-q', 'band', 'steel', 94, 'A# minor', 0, 'quantised', 4, 416),
    take('band-72-E-q', 'band', 'electric', 72, 'E major', 0, 'quantised', 3, 417),
  ],
} satisfies Record<string, TakeSpec[]>;

/** Short takes for the tests (rendered once, kept in the repository). */
export const FIXTURE_TAKES: TakeSpec[] = [
  take('fx-strum-72-Em-q', 'strum', 'steel', 72, 'E minor', 0, 'quantised', 0, 201, 20),
  take('fx-lead-96-F#m-detuned', 'lead', 'nylon', 96, 'F# minor', -30, 'quantised', 1, 202, 12),
  take('fx-band-174-G-h', 'band', 'steel', 174, 'G major', 0, 'humanised', 1, 203, 12),
  take('fx-band-120-Am-q', 'band', 'nylon', 120, 'A minor', 0, 'quantised', 0, 204, 12),
];
