import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fixture, readRecords, runNode, tempDir } from './helpers.js';
import { createLogging, listLogFiles, defaultLogSettings } from '../src/index.js';

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

test('a file an earlier run left ending in part of a line gets a newline before anything is appended', async () => {
  const dir = tempDir();
  const file = await firstFileOfThisWriter(dir);
  const whole = JSON.stringify({ time: '2026-11-21T18:00:00.000Z', level: 'info', message: 'whole', seq: 0 });
  fs.writeFileSync(file, `${whole}\n{"time":"2026-11-21T18:00:00.001Z","level":"info","message":"cut in the midd`);
  const logging = await createLogging({ settings: { ...defaultLogSettings, dir }, stdout: 'off' });
  logging.logger.info({ event: 'service.start' }, 'started');
  assert.equal(logging.stats().tornLinesEnded, 1);
  await logging.close();
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.at(-1), '', 'the file ends with a newline');
  assert.equal(lines.length, 4, 'the whole line, the cut one on its own, the new record');
  assert.equal(JSON.parse(lines[0]!).message, 'whole');
  assert.throws(() => JSON.parse(lines[1]!));
  assert.equal(JSON.parse(lines[2]!).event, 'service.start');
});

test('a file that ends with a newline is appended to as it is', async () => {
  const dir = tempDir();
  const file = await firstFileOfThisWriter(dir);
  fs.writeFileSync(file, `${JSON.stringify({ time: '2026-11-21T18:00:00.000Z', level: 'info', message: 'whole' })}\n`);
  const logging = await createLogging({ settings: { ...defaultLogSettings, dir }, stdout: 'off' });
  logging.logger.info({ event: 'service.start' }, 'started');
  assert.equal(logging.stats().tornLinesEnded, 0);
  await logging.close();
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { message: string }).message), ['whole', 'started']);
});

test('SIGKILL from outside while writing lines of 12 KiB, then a new run on the same directory: no line is joined to a cut one', async () => {
  for (let round = 0; round < 3; round++) {
    const dir = tempDir();
    const child = spawn(process.execPath, [script, dir, 'until-killed', String(12 * 1024), String(1024 * 1024)], { stdio: 'ignore' });
    const written = () => listLogFiles({ dir, file: defaultLogSettings.file }).some((f) => fs.statSync(f.path).size > 0);
    while (!written()) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 300));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const before = readLinesRaw(dir);
    const result = await runNode(script, [dir, 'single']);
    assert.equal(result.signal, 'SIGKILL');
    const after = readLinesRaw(dir);
    // Every line of the killed run parses, except at most its very last one (cut by the kill).
    const lastOfFirstRun = before.length - 1;
    for (let i = 0; i < after.length; i++) {
      if (i === lastOfFirstRun && !before[i]!.endsWith('}')) continue;
      assert.doesNotThrow(() => JSON.parse(after[i]!), `line ${i + 1} of ${after.length} does not parse`);
    }
    const first = JSON.parse(after.at(-1)!) as Record<string, unknown>;
    assert.equal(first.event, 'analysis.start', 'the new run\'s first record is whole');
    assert.equal(after.length, before.length + 1);
  }
});

/** The first file the next writer on `dir` appends to: its own (its owner slot is taken again once released). */
async function firstFileOfThisWriter(dir: string): Promise<string> {
  const logging = await createLogging({ settings: { ...defaultLogSettings, dir }, stdout: 'off' });
  const owner = logging.owner();
  await logging.close();
  assert.ok(owner, 'the writer claimed an owner slot');
  return path.join(dir, `${defaultLogSettings.file.baseName}.${owner}.1.${defaultLogSettings.file.extension}`);
}

/** Lines of every log file, oldest first, a cut last line included. */
function readLinesRaw(dir: string): string[] {
  return listLogFiles({ dir, file: defaultLogSettings.file })
    .reverse()
    .flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter((l) => l.length > 0));
}
