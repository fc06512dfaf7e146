import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogging, defaultLogSettings, listLogFiles } from '@guitar-backend/logger';
import { renderVariant } from '../src/index.js';
import { parseClassic } from './helpers.js';
import { flbStrptime } from './strptime.js';

const parserFormat = (): string => {
  const parser = parseClassic(renderVariant('k8s').parsers)[0];
  const format = parser?.entries.find(([k]) => k === 'time_format')?.[1];
  assert.ok(format);
  return format;
};

test('the parser\'s Time_Format parses the time of real lines the logger wrote, to the millisecond', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluent-config-time-'));
  const logging = await createLogging({ settings: { ...defaultLogSettings, dir }, stdout: 'off' });
  for (let i = 0; i < 40; i++) {
    logging.logger.info({ seq: i }, 'tick');
    await new Promise((r) => setTimeout(r, i % 5));
  }
  await logging.close();
  const times = listLogFiles({ dir, file: defaultLogSettings.file })
    .flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter(Boolean))
    .map((l) => (JSON.parse(l) as { time: unknown }).time);
  assert.equal(times.length, 40);
  const format = parserFormat();
  for (const time of times) {
    assert.equal(typeof time, 'string');
    assert.equal(flbStrptime(time, format), Date.parse(time as string), `${String(time)} with ${format}`);
  }
  const distinct = new Set(times.map((t) => (t as string).slice(-4, -1)));
  assert.ok(distinct.size > 5, 'milliseconds differ between lines');
});

test('the same format copes with what the NOTES measured: offsets and microseconds; and fails where Fluent Bit fails', () => {
  const format = parserFormat();
  assert.equal(flbStrptime('2026-11-21T19:00:00.123+01:00', format), Date.parse('2026-11-21T18:00:00.123Z'));
  assert.equal(flbStrptime('2026-11-21T18:00:00.123456Z', format), Date.parse('2026-11-21T18:00:00.123Z') + 0.456);
  // Fluent Bit used ingestion time for these: a time without fraction, and pino's default epoch-ms number.
  assert.equal(flbStrptime('2026-11-21T18:00:00Z', format), null);
  assert.equal(flbStrptime(1763748000123, format), null);
  // The tempting literal-Z format silently gets an offset wrong.
  assert.notEqual(flbStrptime('2026-11-21T19:00:00.123+01:00', '%Y-%m-%dT%H:%M:%S.%LZ'), Date.parse('2026-11-21T18:00:00.123Z'));
});
