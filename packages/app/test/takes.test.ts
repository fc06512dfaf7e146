/**
 * Accuracy pinned on takes played by real instrument samples (a GM soundfont through FluidSynth),
 * rendered once by `pnpm bench:accuracy --write-fixtures` and kept in test/fixtures/takes with their
 * truth: no synthesizer is needed to run these tests.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scoreAnswer } from '../src/samples/score.js';
import type { TakeTruth } from '../src/samples/takes.js';
import { multipart, startTestService, type TestService } from './helpers.js';

const dir = fileURLToPath(new URL('../../test/fixtures/takes/', import.meta.url));
const { truths } = JSON.parse(fs.readFileSync(`${dir}truth.json`, 'utf8')) as { truths: TakeTruth[] };
const truthOf = (name: string): TakeTruth => {
  const t = truths.find((x) => x.name === name);
  if (!t) throw new Error(`no truth for ${name}`);
  return t;
};

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(async () => {
  await service.shutdown('test done');
});

async function analyse(name: string, query = ''): Promise<{ status: number; json: Record<string, any> }> {
  const body = multipart([{ field: 'file', filename: `${name}.flac`, contentType: 'audio/flac', data: fs.readFileSync(`${dir}${name}.flac`) }]);
  const res = await service.app.inject({ method: 'POST', url: `/api/analyze${query}`, ...body });
  return { status: res.statusCode, json: res.json() as Record<string, any> };
}

function score(name: string, r: Record<string, any>) {
  return scoreAnswer(truthOf(name), {
    bpm: r.tempo.bpm,
    key: r.key?.name ?? null,
    cents: r.tuning?.cents_from_a440 ?? null,
    chords: r.chords,
    notes: r.notes,
    beats: r.tempo.beats,
  });
}

test('a strummed take at 72 BPM: the tempo a musician counts (not 144), its key, chords bar by bar, on the grid', async () => {
  const name = 'fx-strum-72-Em-q';
  const { status, json: r } = await analyse(name);
  assert.equal(status, 200, JSON.stringify(r));
  const s = score(name, r);
  assert.equal(s.tempo, 'ok', `bpm ${r.tempo.bpm}, candidates ${JSON.stringify(r.tempo.candidates)}`);
  assert.equal(r.tempo.candidates[0].bpm, r.tempo.bpm);
  assert.ok(r.tempo.candidates.some((c: { relation: string }) => c.relation === 'double'), 'the double reading is said');
  assert.equal(s.key, 'ok', r.key?.name);
  assert.ok(Math.abs(s.tuningError ?? 99) <= 5, `tuning ${r.tuning?.cents_from_a440}`);
  assert.ok((s.chordsPerBar ?? 0) >= 0.8, `chords per bar ${s.chordsPerBar}: ${r.chords.map((c: { chord: string }) => c.chord).join(' ')}`);
  assert.equal(s.chordsOutsideKey, 0, r.chords.map((c: { chord: string }) => c.chord).join(' '));
  assert.ok(r.onsets.timing.within_30ms_ratio >= 0.9, `a take played on the grid: ${JSON.stringify(r.onsets.timing)}`);
  assert.ok(Math.abs(s.beatOffsetMs ?? 99) <= 20, `beats ${s.beatOffsetMs} ms from the grid`);
});

test('a lead 30 cents flat in F# minor: the tuning, the minor key, and the notes named against the tuning', async () => {
  const name = 'fx-lead-96-F#m-detuned';
  const { json: r } = await analyse(name);
  const s = score(name, r);
  assert.equal(s.tempo, 'ok', `bpm ${r.tempo.bpm}`);
  assert.ok(Math.abs(s.tuningError ?? 99) <= 5, `tuning ${r.tuning?.cents_from_a440}, truth -30`);
  // Four bars of a single line whose first bar (A G# F# A G# F# D F#) spells D major as well as F#
  // minor: the key is a close call (the benchmark's 45-s takes measure it); what is pinned here is
  // that the minor third is heard (never F# major) and the confidences are said.
  assert.notEqual(s.key, 'parallel', `key ${r.key?.name}: not the parallel major`);
  assert.equal(r.key.candidates[0].name, r.key.name);
  assert.ok(r.key.candidates.length >= 2 && r.key.candidates[1].confidence > 0, JSON.stringify(r.key.candidates));
  assert.ok((s.leadRecall ?? 0) >= 0.9, `lead recall ${s.leadRecall}, ${s.leadOctaveErrors} octave errors`);
  assert.ok(r.onsets.timing.within_30ms_ratio >= 0.9, JSON.stringify(r.onsets.timing));
});

test('a band at 174 BPM (drums, bass, guitars): the tempo, not half of it; the key; chords bar by bar', async () => {
  const name = 'fx-band-174-G-h';
  const { json: r } = await analyse(name);
  const s = score(name, r);
  assert.equal(s.tempo, 'ok', `bpm ${r.tempo.bpm}, candidates ${JSON.stringify(r.tempo.candidates)}`);
  // Gmaj7–Em7–Am7–D7: the pitch classes favour E minor as much as G major; the loop starting on
  // Gmaj7 (read as G, not as the B minor inside it) says G major, and E minor is named as the other reading.
  assert.equal(s.key, 'ok', r.key?.name);
  assert.ok(r.key.alternatives.includes('E minor'), JSON.stringify(r.key));
  assert.ok((s.chordsPerBar ?? 0) >= 0.8, `chords per bar ${s.chordsPerBar}`);
  assert.ok(Math.abs(s.tuningError ?? 99) <= 5, `tuning ${r.tuning?.cents_from_a440}`);
});

test('a quantised band take in A minor: on the grid, chords agree with the key', async () => {
  const name = 'fx-band-120-Am-q';
  const { json: r } = await analyse(name);
  const s = score(name, r);
  assert.equal(s.tempo, 'ok', `bpm ${r.tempo.bpm}`);
  assert.equal(s.key, 'ok', r.key?.name);
  assert.ok((s.chordsPerBar ?? 0) >= 0.8, `chords per bar ${s.chordsPerBar}`);
  assert.equal(s.chordsOutsideKey, 0, r.chords.map((c: { chord: string }) => c.chord).join(' '));
  assert.ok(r.onsets.timing.within_30ms_ratio >= 0.9, JSON.stringify(r.onsets.timing));
});

test('hints: a metronome tempo decides half or double; an expected key is reported and steers the chords', async () => {
  const name = 'fx-strum-72-Em-q';
  const doubled = (await analyse(name, '?bpm=144')).json;
  assert.ok(Math.abs(doubled.tempo.bpm - 144) <= 3, `with bpm=144 the eighth-note pulse is the beat: ${doubled.tempo.bpm}`);
  const keyed = (await analyse(name, `?key=${encodeURIComponent('G major')}&time_signature=4/4&bpm=72`)).json;
  assert.equal(keyed.key.name, 'G major');
  assert.ok(Math.abs(keyed.tempo.bpm - 72) <= 2, String(keyed.tempo.bpm));
  const flat = (await analyse(name, '?key=Bbm')).json;
  assert.equal(flat.key.name, 'A# minor');
});

test('a hint that cannot be read is a 400 naming it', async () => {
  for (const [query, word] of [
    ['?bpm=fast', 'bpm'],
    ['?bpm=1000', 'bpm'],
    ['?key=H%20major', 'key'],
    ['?time_signature=four', 'time_signature'],
  ] as const) {
    const { status, json } = await analyse('fx-lead-96-F#m-detuned', query);
    assert.equal(status, 400, `${query}: ${JSON.stringify(json)}`);
    assert.equal(json.error, 'bad_request');
    assert.match(json.message, new RegExp(word));
  }
});

test('the lead guitar in the band takes: most of its notes at their onsets, not the bass or the strum under them', async () => {
  // 12-second takes (about 27 lead notes each): the bound leaves room for two or three misses more
  // than measured (0.78 and 0.81), as a pin against losing the lead in a mix, not a target.
  for (const name of ['fx-band-174-G-h', 'fx-band-120-Am-q']) {
    const { json: r } = await analyse(name);
    const s = score(name, r);
    assert.ok((s.leadRecall ?? 0) >= 0.7, `${name}: lead recall ${s.leadRecall}, ${s.leadOctaveErrors} octave errors`);
  }
});
