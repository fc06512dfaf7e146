#!/usr/bin/env node
/**
 * sample-audio: writes a guitar-like WAV with a known tempo, key and melody, and prints the truth.
 *   sample-audio --out take.wav [--seconds 30] [--bpm 120] [--key "A minor"] [--style full|lick]
 *                [--rate 44100] [--channels 1|2] [--tuning 440] [--seed 1] [--truth take.json]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { NOTE_NAMES, type NoteName, type SongSpec } from './synth.js';
import { writeSongWav } from './render.js';

function fail(message: string): never {
  process.stderr.write(`sample-audio: ${message}\n`);
  process.exit(2);
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) fail(`--${name} must be a number from ${min} to ${max}, got '${raw}'`);
  return v;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      out: { type: 'string' },
      seconds: { type: 'string' },
      bpm: { type: 'string' },
      key: { type: 'string' },
      style: { type: 'string' },
      rate: { type: 'string' },
      channels: { type: 'string' },
      tuning: { type: 'string' },
      seed: { type: 'string' },
      truth: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (!values.out) fail('--out FILE is required');
const [tonic = 'A', scale = 'minor'] = (values.key ?? 'A minor').split(/\s+/);
if (!(NOTE_NAMES as readonly string[]).includes(tonic)) fail(`--key tonic must be one of ${NOTE_NAMES.join(' ')}, got '${tonic}'`);
if (scale !== 'major' && scale !== 'minor') fail(`--key scale must be major or minor, got '${scale}'`);
const style = values.style ?? 'full';
if (style !== 'full' && style !== 'lick') fail(`--style must be full or lick, got '${style}'`);
const channels = number('channels', values.channels, 1, 1, 2);
const spec: Partial<SongSpec> = {
  seconds: number('seconds', values.seconds, 30, 1, 4 * 3600),
  bpm: number('bpm', values.bpm, 120, 40, 240),
  tonic: tonic as NoteName,
  scale,
  style,
  sampleRate: number('rate', values.rate, 44_100, 8000, 192_000),
  channels: channels === 2 ? 2 : 1,
  tuningHz: number('tuning', values.tuning, 440, 400, 480),
  seed: number('seed', values.seed, 1, 0, 2 ** 31),
};
const truth = writeSongWav(values.out, spec);
const summary = { file: values.out, ...spec, melodyNotes: truth.melody.length, beats: truth.beats.length };
if (values.truth) fs.writeFileSync(values.truth, JSON.stringify({ ...summary, truth }, null, 2));
process.stdout.write(`${JSON.stringify(summary)}\n`);
