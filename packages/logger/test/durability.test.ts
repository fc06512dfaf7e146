import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, readRecords, runNode, tempDir } from './helpers.js';
import { listLogFiles, defaultLogSettings } from '../src/index.js';

const script = fixture('log-then-kill.js');

test('a single line logged just before SIGKILL is on disk', async () => {
  const dir = tempDir();
  const result = await runNode(script, [dir, 'single']);
  assert.equal(result.signal, 'SIGKILL');
  const records = readRecords(dir);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.event, 'analysis.start');
  assert.equal(records[0]?.request_id, 'req-1');
  assert.equal(records[0]?.file_size_mb, 12.5);
});

test('analysis.start logged after 200 lines in the same tick, right before a big allocation, survives the kill', async () => {
  const dir = tempDir();
  const result = await runNode(script, [dir, 'before-allocation']);
  assert.equal(result.signal, 'SIGKILL');
  const records = readRecords(dir);
  assert.equal(records.at(-1)?.event, 'analysis.start');
  assert.equal(records.at(-1)?.request_id, 'req-2');
});

test('a 20,000-line burst then SIGKILL loses nothing, with rotation happening mid-burst', async () => {
  const dir = tempDir();
  const count = 20_000;
  const result = await runNode(script, [dir, 'burst', String(count), String(256 * 1024)]);
  assert.equal(result.signal, 'SIGKILL');
  const files = listLogFiles({ dir, file: defaultLogSettings.file });
  assert.ok(files.length >= 5, `expected several rotated files, got ${files.length}`);
  const seqs = readRecords(dir).map((r) => r.seq);
  assert.equal(seqs.length, count);
  assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i), 'every line, once, in order');
});

test('rotation keeps files near the size limit even inside one synchronous burst', async () => {
  const dir = tempDir();
  const limit = 64 * 1024;
  await runNode(script, [dir, 'burst', '5000', String(limit)]);
  const files = listLogFiles({ dir, file: defaultLogSettings.file });
  const { statSync } = await import('node:fs');
  for (const f of files) {
    assert.ok(statSync(f.path).size < limit + 16 * 1024, `${f.name} is ${statSync(f.path).size} bytes`);
  }
});
