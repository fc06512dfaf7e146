/**
 * Accuracy benchmark: takes written as MIDI (src/samples/takes.ts), rendered with real instrument
 * samples by FluidSynth and a General MIDI soundfont, analysed by the real service (its own process,
 * on 127.0.0.1) and, when the librosa anchor is given, by the old librosa analysis on the same files.
 * Prints one row per take and a summary against the targets; writes the takes, truth.json and the
 * answers to ACCURACY_OUT (default: a temporary folder).
 *
 *   apt-get install -y fluidsynth fluid-soundfont-gm
 *   pnpm bench:accuracy                                  (env: ACCURACY_SET=all|tuning|holdout|holdout2|holdout-band|holdout-key (or a list),
 *      LIBROSA_ANCHOR=/path/to/anchors/librosa, PYTHON (Debian's: /usr/bin/python3), FLUIDSYNTH_BIN, SOUNDFONT, ACCURACY_OUT)
 *   pnpm bench:accuracy --write-fixtures DIR             (the short takes the tests use)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ACCURACY_TAKES, FIXTURE_TAKES, renderTake, type TakeSpec, type TakeTruth } from '../src/samples/takes.js';
import { scoreAnswer, type Score, type ScoredAnswer } from '../src/samples/score.js';
import { startServiceProcess } from '../test/helpers.js';

const FLUIDSYNTH = process.env.FLUIDSYNTH_BIN ?? '/usr/bin/fluidsynth';
const SOUNDFONT = process.env.SOUNDFONT ?? '/usr/share/sounds/sf2/FluidR3_GM.sf2';

if (!fs.existsSync(FLUIDSYNTH) || !fs.existsSync(SOUNDFONT)) {
  console.error(
    `bench:accuracy needs FluidSynth (${FLUIDSYNTH}) and a General MIDI soundfont (${SOUNDFONT}).\n` +
      'On Debian: apt-get install -y fluidsynth fluid-soundfont-gm (or set FLUIDSYNTH_BIN and SOUNDFONT).',
  );
  process.exit(2);
}

/** Renders a take's MIDI with FluidSynth (no audio device, no reverb/chorus tails left unbounded). */
function renderAudio(spec: TakeSpec, file: string, rate: number): TakeTruth {
  const { midi, truth } = renderTake(spec);
  const mid = file.replace(/\.[a-z0-9]+$/, '.mid');
  fs.writeFileSync(mid, midi);
  const r = spawnSync(FLUIDSYNTH, ['-ni', '-q', '-g', '0.5', '-r', String(rate), '-F', file, SOUNDFONT, mid], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(file)) throw new Error(`fluidsynth failed on ${spec.name}: ${r.stderr}`);
  return truth;
}

const args = process.argv.slice(2);
if (args[0] === '--write-fixtures') {
  const dir = path.resolve(args[1] ?? 'packages/app/test/fixtures/takes');
  fs.mkdirSync(dir, { recursive: true });
  const truths: TakeTruth[] = [];
  for (const spec of FIXTURE_TAKES) {
    const file = path.join(dir, `${spec.name}.flac`);
    truths.push(renderAudio(spec, file, 22_050));
    fs.rmSync(file.replace(/\.flac$/, '.mid'));
    console.log(`${file} ${(fs.statSync(file).size / 1024).toFixed(0)} KiB`);
  }
  fs.writeFileSync(path.join(dir, 'truth.json'), `${JSON.stringify({ generator: 'bench/accuracy.bench.ts --write-fixtures', specs: FIXTURE_TAKES, truths }, null, 1)}\n`);
  process.exit(0);
}

const SET = process.env.ACCURACY_SET ?? 'all';
const SETS = Object.keys(ACCURACY_TAKES) as Array<keyof typeof ACCURACY_TAKES>;
const chosen = SET === 'all' ? SETS : SETS.filter((s) => SET.split(',').includes(s));
if (chosen.length === 0) {
  console.error(`ACCURACY_SET=${SET}: expected all or a comma-separated list of ${SETS.join(', ')}`);
  process.exit(2);
}
const takes: Array<{ spec: TakeSpec; set: (typeof SETS)[number] }> = chosen.flatMap((set) => ACCURACY_TAKES[set].map((spec) => ({ spec, set })));
const out = process.env.ACCURACY_OUT ? path.resolve(process.env.ACCURACY_OUT) : fs.mkdtempSync(path.join(os.tmpdir(), 'accuracy-bench-'));
fs.mkdirSync(out, { recursive: true });

const rendered: Array<{ spec: TakeSpec; set: string; file: string; truth: TakeTruth }> = [];
for (const { spec, set } of takes) {
  const file = path.join(out, `${spec.name}.wav`);
  rendered.push({ spec, set, file, truth: renderAudio(spec, file, 44_100) });
}
fs.writeFileSync(path.join(out, 'truth.json'), JSON.stringify(rendered.map((r) => ({ set: r.set, spec: r.spec, truth: r.truth })), null, 1));
console.log(`\nAccuracy benchmark — ${rendered.length} takes rendered by FluidSynth with ${path.basename(SOUNDFONT)} into ${out}`);

// The service, as a user meets it.
const service = startServiceProcess({ LOG_DIR: path.join(out, 'logs'), MAX_UPLOAD_MB: '200' });
const base = await service.url;
const ours = new Map<string, Record<string, any>>();
for (const r of rendered) {
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(r.file)]), path.basename(r.file));
  const res = await fetch(`${base}/api/analyze`, { method: 'POST', body: form });
  const body = (await res.json()) as Record<string, any>;
  if (res.status !== 200) throw new Error(`${r.spec.name}: ${res.status} ${JSON.stringify(body)}`);
  ours.set(r.spec.name, body);
}
service.child.kill('SIGTERM');
await service.exited;
fs.writeFileSync(path.join(out, 'answers.json'), JSON.stringify(Object.fromEntries(ours), null, 1));

// librosa's answers on the same files, when the anchor is there and Python can run it.
const librosa = new Map<string, Record<string, any>>();
let librosaNote = 'not run (set LIBROSA_ANCHOR to anchors/librosa)';
const anchor = process.env.LIBROSA_ANCHOR;
if (anchor && fs.existsSync(path.join(anchor, 'bench.py'))) {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'numba-'));
  const r = spawnSync(process.env.PYTHON ?? '/usr/bin/python3', [path.join(anchor, 'bench.py'), ...rendered.map((x) => x.file)], {
    encoding: 'utf8',
    env: { ...process.env, NUMBA_CACHE_DIR: cache, PYTHONPATH: `${path.join(anchor, 'src')}:${path.join(anchor, 'shim')}` },
    maxBuffer: 256 * 2 ** 20,
  });
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const j = JSON.parse(line) as Record<string, any>;
    librosa.set(String(j.file).replace(/\.wav$/, ''), j);
  }
  librosaNote = r.status === 0 ? `librosa ${anchor}` : `librosa failed: ${r.stderr.split('\n').filter(Boolean).at(-1) ?? r.status}`;
  fs.rmSync(cache, { recursive: true, force: true });
  fs.writeFileSync(path.join(out, 'librosa.json'), JSON.stringify(Object.fromEntries(librosa), null, 1));
}

const fromService = (a: Record<string, any>): ScoredAnswer => ({
  bpm: a.tempo?.bpm ?? null,
  key: a.key?.name ?? null,
  cents: a.tuning?.cents_from_a440 ?? null,
  chords: a.chords,
  notes: a.notes ?? [],
  beats: a.tempo?.beats,
  within30: a.onsets?.timing?.within_30ms_ratio ?? null,
});
const fromLibrosa = (a: Record<string, any>): ScoredAnswer => ({
  bpm: a.tempo_bpm ?? null,
  key: a.key?.name ?? null,
  cents: a.tuning_cents ?? null,
  notes: Array.isArray(a.notes) ? a.notes : [],
});

const f1 = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '–' : x.toFixed(d));
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${Math.round(x * 100)} %`);
const mark = (v: string): string => (v === 'ok' ? 'ok' : v);

console.log(`\nlibrosa: ${librosaNote}\n`);
console.log('| take | set | truth | tempo | librosa tempo | key | librosa key | tuning ¢ (err) | librosa ¢ (err) | chords/bar | outside key | timing ≤30 ms | beat offset ms | lead recall | librosa lead |');
console.log('|---|---|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|');
const scores: Array<{ set: string; truth: TakeTruth; s: Score; l: Score | null; within30: number | null }> = [];
for (const r of rendered) {
  const a = ours.get(r.spec.name) ?? {};
  const l = librosa.get(r.spec.name);
  const s = scoreAnswer(r.truth, fromService(a));
  const ls = l ? scoreAnswer(r.truth, fromLibrosa(l)) : null;
  const within30 = r.truth.quantised ? (a.onsets?.timing?.within_30ms_ratio ?? null) : null;
  scores.push({ set: r.set, truth: r.truth, s, l: ls, within30 });
  console.log(
    `| ${r.spec.name} | ${r.set} | ${r.truth.bpm} ${r.truth.key} ${r.truth.cents >= 0 ? '+' : ''}${r.truth.cents}¢ | ${f1(a.tempo?.bpm)} ${mark(s.tempo)} | ${l ? `${f1(l.tempo_bpm)} ${mark(ls?.tempo ?? '')}` : '–'} | ${a.key?.name ?? '–'} ${mark(s.key)} | ${l ? `${l.key?.name} ${mark(ls?.key ?? '')}` : '–'} | ${f1(a.tuning?.cents_from_a440)} (${f1(s.tuningError)}) | ${l ? `${f1(l.tuning_cents)} (${f1(ls?.tuningError)})` : '–'} | ${pct(s.chordsPerBar)} | ${s.chordsOutsideKey ?? '–'} | ${r.truth.quantised ? f1(within30, 2) : '–'} | ${f1(s.beatOffsetMs, 0)} | ${pct(s.leadRecall)}${s.leadOctaveErrors ? ` (${s.leadOctaveErrors} oct)` : ''} | ${ls ? pct(ls.leadRecall) : '–'} |`,
  );
}

function summary(label: string, rows: typeof scores, pick: (x: (typeof scores)[number]) => Score | null, withTiming: boolean): string {
  const ss = rows.map(pick).filter((x): x is Score => x !== null);
  if (ss.length === 0) return `| ${label} | – | – | – | – | – | – | – |`;
  const n = ss.length;
  const count = (f: (s: Score) => boolean): number => ss.filter(f).length;
  const tempoOk = count((s) => s.tempo === 'ok');
  const octave = count((s) => s.tempo === 'half' || s.tempo === 'double');
  const keyOk = count((s) => s.key === 'ok');
  const rel = count((s) => s.key === 'relative');
  const par = count((s) => s.key === 'parallel');
  const tuned = count((s) => s.tuningError !== null && Math.abs(s.tuningError) <= 5);
  const chordRows = ss.filter((s) => s.chordsPerBar !== null);
  const chords = chordRows.length ? chordRows.reduce((a, s) => a + (s.chordsPerBar ?? 0), 0) / chordRows.length : null;
  const leadRows = ss.filter((s) => s.leadRecall !== null);
  const lead = leadRows.length ? leadRows.reduce((a, s) => a + (s.leadRecall ?? 0), 0) / leadRows.length : null;
  const timing = withTiming ? rows.filter((r) => r.within30 !== null) : [];
  const timingOk = timing.filter((r) => (r.within30 ?? 0) >= 0.9).length;
  return `| ${label} | ${tempoOk}/${n} (${octave} octave) | ${keyOk}/${n} (${rel} relative, ${par} parallel) | ${tuned}/${n} | ${pct(chords)} | ${ss.reduce((a, s) => a + (s.chordsOutsideKey ?? 0), 0) || (chordRows.length ? 0 : '–')} | ${timing.length ? `${timingOk}/${timing.length}` : '–'} | ${pct(lead)} |`;
}

console.log('\n| answers | tempo ±2 BPM | key | tuning ±5 ¢ | chords per bar (mean) | chords outside key | timing ≥ 0.9 (quantised) | lead recall (mean) |');
console.log('|---|---|---|---|---:|---:|---|---:|');
for (const set of SETS) {
  const rows = scores.filter((x) => x.set === set);
  if (rows.length === 0) continue;
  console.log(summary(`service, ${set} takes`, rows, (x) => x.s, true));
  if (librosa.size > 0) console.log(summary(`librosa, ${set} takes`, rows, (x) => x.l, false));
}
console.log('| targets (held-out takes) | ≥ 90 %, no octave error | ≥ 90 % | all | ≥ 80 % | 0 without reason | all | ≥ 90 % |');
console.log(`\nTakes, truth.json, answers.json${librosa.size ? ', librosa.json' : ''}: ${out}`);
