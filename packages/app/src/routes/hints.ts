/**
 * What a practising musician may tell about a take, as optional query parameters of
 * POST /api/analyze: `bpm` (the metronome tempo), `time_signature` (e.g. 3/4) and `key`
 * (e.g. "E minor", "F# major", "Bb minor", "Em"). A hint that cannot be read is a 400 naming it.
 */
import type { AnalysisHints } from '../analysis/types.js';
import { ApiError } from '../errors.js';

const SHARPS: Record<string, string> = { DB: 'C#', EB: 'D#', GB: 'F#', AB: 'G#', BB: 'A#', CB: 'B', FB: 'E', 'E#': 'F', 'B#': 'C' };

export const hintsQuerySchema = {
  type: 'object',
  properties: {
    bpm: { type: 'string', description: 'the metronome tempo the take was played to (30–300): decides between half and double tempo' },
    time_signature: { type: 'string', description: 'e.g. 4/4, 3/4, 6/8: beats per bar; with an odd count the beat is not regrouped in pairs' },
    key: { type: 'string', description: 'the key the piece is in, e.g. "E minor", "F# major", "Bb minor", "Em": reported as the key, and chords of that key are preferred' },
  },
} as const;

function parseKey(raw: string): NonNullable<AnalysisHints['key']> {
  const m = /^\s*([A-Ga-g])([#b]?)\s*(major|minor|maj|min|m)?\s*$/i.exec(raw);
  if (!m) throw new ApiError('bad_request', `the hint key='${raw}' is not a key: write e.g. "E minor", "F# major" or "Bbm"`);
  const letter = (m[1] ?? 'C').toUpperCase();
  const accidental = m[2] ?? '';
  const spelled = `${letter}${accidental}`;
  const tonic = SHARPS[spelled.toUpperCase()] ?? spelled;
  const mode = (m[3] ?? 'major').toLowerCase();
  return { tonic, scale: mode === 'minor' || mode === 'min' || mode === 'm' ? 'minor' : 'major' };
}

export function parseHints(query: unknown): AnalysisHints {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const hints: AnalysisHints = {};
  const text = (name: string): string | undefined => {
    const v = q[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new ApiError('bad_request', `give the hint '${name}' once`);
    return v;
  };
  const bpm = text('bpm');
  if (bpm !== undefined) {
    const value = Number(bpm);
    if (!Number.isFinite(value) || value < 30 || value > 300) throw new ApiError('bad_request', `the hint bpm='${bpm}' must be a tempo from 30 to 300`);
    hints.bpm = value;
  }
  const signature = text('time_signature');
  if (signature !== undefined) {
    const m = /^\s*(\d{1,2})\s*\/\s*(1|2|4|8|16)\s*$/.exec(signature);
    const beats = Number(m?.[1]);
    if (!m || beats < 1 || beats > 16) throw new ApiError('bad_request', `the hint time_signature='${signature}' must look like 4/4, 3/4 or 6/8`);
    hints.beatsPerBar = beats;
  }
  const key = text('key');
  if (key !== undefined) hints.key = parseKey(key);
  return hints;
}
