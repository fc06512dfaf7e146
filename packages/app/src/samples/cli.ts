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

const USAGE = `usage: sample-audio --out FILE [--seconds 30] [--bpm 120] [--key "A minor"] [--style full|lick]
                    [--rate 44100] [--channels 1|2] [--tuning 440] [--seed 1] [--truth FILE.json]

Writes a guitar-like 16-bit WAV (plucked strings: bass, strums and an eighth-note melody over a
i–iv–V–i or I–IV–V–I progression) with a known tempo, key and melody, and prints a summary.
  --out FILE        the WAV to write (required)
  --seconds N       length, 1–14400 (default 30)
  --bpm N           tempo, 40–240 (default 120)
  --key "T major|minor"  tonic and scale (default "A minor")
  --style full|lick full mix or the melody alone (default full)
  --rate N          sample rate, 8000–192000 (default 44100)
  --channels 1|2    (default 1)
  --tuning N        frequency of A4, 400–480 (default 440)
  --seed N          random seed (default 1)
  --truth FILE      also write the beats and melody notes as JSON
  -h, --help        this text
`;

function fail(message: string): never {
  process.stderr.write(`sample-audio: ${message}\n${USAGE}`);
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
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
