import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { songWav, type SongSpec } from '../src/index.js';
import { fixture, startTestService, upload, type TestService } from './helpers.js';

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(async () => {
  await service.shutdown('test done');
});

async function analyse(spec: Partial<SongSpec>) {
  const song = songWav(spec);
  const res = await upload(service, song.wav);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { r: res.json, truth: song.truth };
}

function noteAccuracy(r: Record<string, any>, truth: { melody: Array<{ onset: number; midi: number }> }): number {
  const found = truth.melody.filter((n) => r.notes.some((d: { onset: number; midi: number }) => Math.abs(d.onset - n.onset) < 0.05 && d.midi === n.midi));
  return found.length / truth.melody.length;
}

for (const spec of [
  { seconds: 30, bpm: 120, tonic: 'A', scale: 'minor', style: 'full' },
  { seconds: 30, bpm: 95, tonic: 'E', scale: 'major', style: 'full' },
  { seconds: 30, bpm: 140, tonic: 'G', scale: 'minor', style: 'lick' },
  { seconds: 20, bpm: 100, tonic: 'D', scale: 'major', style: 'full', sampleRate: 48000, channels: 2 },
] as Array<Partial<SongSpec>>) {
  test(`tempo within 2 BPM, the right key, and the lick's notes: ${JSON.stringify(spec)}`, async () => {
    const { r, truth } = await analyse(spec);
    assert.ok(Math.abs(r.tempo.bpm - truth.bpm) <= 2, `bpm ${r.tempo.bpm} vs ${truth.bpm}`);
    assert.ok(r.tempo.confidence > 0.8, `confidence ${r.tempo.confidence}`);
    assert.equal(r.key.name, `${truth.tonic} ${truth.scale}`);
    assert.equal(r.audio.sample_rate, spec.sampleRate ?? 44100);
    assert.equal(r.audio.channels, spec.channels ?? 1);
    if (spec.style === 'lick') assert.ok(noteAccuracy(r, truth) >= 0.9, `notes ${noteAccuracy(r, truth)}`);
    for (const n of r.notes) assert.ok(n.midi >= 40 && n.midi <= 88, `${n.name} outside E2–E6`);
    assert.ok(r.onsets.timing.within_30ms_ratio > 0.85, JSON.stringify(r.onsets.timing));
  });
}

test('tuning: a guitar tuned to A=446 reads about +23 cents, one at 440 about 0', async () => {
  const sharp = (await analyse({ seconds: 20, style: 'lick', tuningHz: 446 })).r;
  assert.ok(Math.abs(sharp.tuning.cents_from_a440 - 23.4) <= 3, JSON.stringify(sharp.tuning));
  assert.ok(Math.abs(sharp.tuning.frequency_hz - 446) <= 1, JSON.stringify(sharp.tuning));
  // Notes are named against the detected tuning, not A440.
  assert.equal(sharp.notes[0].name, 'A3');
  const exact = (await analyse({ seconds: 20, style: 'lick' })).r;
  assert.ok(Math.abs(exact.tuning.cents_from_a440) <= 3, JSON.stringify(exact.tuning));
});

test('chords follow the progression i–iv–V–i of the full mix, bar by bar', async () => {
  const { r } = await analyse({ seconds: 16, style: 'full' });
  // One chord per bar of 2 s (120 BPM, 4/4): the chord sounding in the middle of each bar.
  const expected = ['A', 'D', 'E', 'A', 'A', 'D', 'E', 'A'];
  const heard = expected.map((_, bar) => {
    const middle = bar * 2 + 1;
    const c = r.chords.find((x: { start: number; end: number }) => x.start <= middle && x.end > middle);
    return c ? (c.chord as string).replace(/m?7?$/, '').replace(/maj$/, '') : '–';
  });
  const byBar = expected.filter((root, i) => heard[i] === root).length;
  assert.ok(byBar >= 6, `roots by bar ${heard.join(' ')}`);
});

test('loudness over time follows the level of the recording', async () => {
  const { r } = await analyse({ seconds: 10, style: 'lick' });
  assert.equal(r.loudness.window_seconds, 0.5);
  assert.equal(r.loudness.rms_db.length, 20);
  assert.ok(r.loudness.mean_db < -5 && r.loudness.mean_db > -40, String(r.loudness.mean_db));
  assert.ok(typeof r.loudness.dynamic_complexity === 'number');
});

for (const [file, format, rate, channels] of [
  ['lick-stereo-44k.mp3', 'mp3', 44100, 2],
  ['full-mono-16k.flac', 'flac', 16000, 1],
  ['lick-stereo-48k.ogg', 'ogg', 48000, 2],
] as const) {
  test(`${format.toUpperCase()} (${rate} Hz, ${channels} channel${channels > 1 ? 's' : ''}) is decoded, downmixed, resampled and analysed`, async () => {
    const res = await upload(service, fixture(file), file, 'application/octet-stream');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const r = res.json;
    assert.equal(r.audio.format, format);
    assert.equal(r.audio.sample_rate, rate);
    assert.equal(r.audio.channels, channels);
    assert.equal(r.audio.analysis_sample_rate, 44100);
    assert.ok(Math.abs(r.audio.duration_seconds - (format === 'flac' ? 6 : 8)) < 0.2, String(r.audio.duration_seconds));
    assert.ok(Math.abs(r.tempo.bpm - 120) <= 2, `bpm ${r.tempo.bpm}`);
    if (format !== 'flac') assert.ok(r.notes.filter((n: { name: string }) => n.name === 'A3').length >= 2, 'the lick starts on A3');
  });
}

test('pure silence is a valid recording: 200 with nothing detected', async () => {
  const silent = songWav({ seconds: 5 }).wav;
  silent.fill(0, 44);
  const res = await upload(service, silent, 'silence.wav');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const r = res.json;
  assert.equal(r.audio.silent, true);
  assert.deepEqual([r.tempo.bpm, r.tempo.confidence, r.key, r.tuning], [null, 0, null, null]);
  assert.deepEqual([r.notes, r.onsets.times, r.chords], [[], [], []]);
  assert.ok(r.loudness.rms_db.every((d: number) => d === -100));
});
