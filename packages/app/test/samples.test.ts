import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { songWav, midiName } from '../src/index.js';
import { tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../src/samples/cli.js', import.meta.url));

test('the generator is deterministic and its WAV header matches its content', () => {
  const a = songWav({ seconds: 4, channels: 2, sampleRate: 22050, seed: 7 });
  const b = songWav({ seconds: 4, channels: 2, sampleRate: 22050, seed: 7 });
  assert.ok(a.wav.equals(b.wav));
  assert.equal(a.wav.toString('ascii', 0, 4), 'RIFF');
  assert.equal(a.wav.readUInt16LE(22), 2);
  assert.equal(a.wav.readUInt32LE(24), 22050);
  assert.equal(a.wav.readUInt32LE(40), 4 * 22050 * 2 * 2);
  assert.equal(a.wav.length, 44 + 4 * 22050 * 2 * 2);
  assert.ok(!a.wav.equals(songWav({ seconds: 4, channels: 2, sampleRate: 22050, seed: 8 }).wav));
});

test('the truth: beats on the tempo grid, eighth-note melody in the key, in the guitar range', () => {
  const { truth } = songWav({ seconds: 10, bpm: 100, tonic: 'E', scale: 'minor' });
  assert.equal(truth.beats.length, Math.ceil(10 / 0.6));
  assert.ok(truth.beats.every((b, i) => Math.abs(b - i * 0.6) < 1e-6));
  assert.equal(truth.melody.length, Math.ceil(10 / 0.3));
  const eMinorHarmonic = new Set([4, 6, 7, 9, 11, 0, 3]); // E F# G A B C D#
  for (const n of truth.melody) {
    assert.ok(eMinorHarmonic.has(n.midi % 12), midiName(n.midi));
    assert.ok(n.midi >= 40 && n.midi <= 88);
  }
});

test('the sample-audio command writes the file and its truth, and refuses bad options', () => {
  const dir = tempDir();
  const out = path.join(dir, 'take.wav');
  const ok = spawnSync(process.execPath, [cli, '--out', out, '--seconds', '2', '--bpm', '90', '--key', 'D major', '--truth', path.join(dir, 'truth.json')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(fs.statSync(out).size, 44 + 2 * 44100 * 2);
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as { bpm: number; tonic: string; truth: { melody: unknown[] } };
  assert.deepEqual([truth.bpm, truth.tonic], [90, 'D']);
  assert.ok(truth.truth.melody.length > 0);
  for (const [args, message] of [
    [['--seconds', '2'], /--out FILE is required/],
    [['--out', out, '--bpm', 'fast'], /--bpm must be a number from 40 to 240, got 'fast'/],
    [['--out', out, '--key', 'H minor'], /--key tonic must be one of/],
    [['--out', out, '--style', 'jazz'], /--style must be full or lick/],
    [['--out', out, '--colour', 'red'], /Unknown option '--colour'/],
  ] as Array<[string[], RegExp]>) {
    const bad = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    assert.equal(bad.status, 2, args.join(' '));
    assert.match(bad.stderr, message);
  }
});

test('sample-audio --help and -h print the usage and exit 0, writing nothing', () => {
  for (const flag of ['--help', '-h']) {
    const res = spawnSync(process.execPath, [cli, flag], { encoding: 'utf8', cwd: tempDir() });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^usage: sample-audio --out FILE/);
    assert.match(res.stdout, /--truth FILE/);
    assert.equal(res.stderr, '');
  }
});
