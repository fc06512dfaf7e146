import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { createLogging } from '../src/index.js';
import { fixture, readRecords, tempDir, testSettings } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
  }
});

/** A real, small filesystem: tmpfs of `size` bytes (needs root, as in CI and the dev machines). */
function smallFilesystem(size: number): string {
  const dir = tempDir('logger-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

function fillUp(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

test('a full disk (ENOSPC on a real tmpfs): no throw, failures counted and reported at most once per interval, memory bounded, writing resumes by itself', async () => {
  const mount = smallFilesystem(512 * 1024);
  const reports: string[] = [];
  const logging = await createLogging({
    settings: testSettings(path.join(mount, 'logs')),
    stdout: 'off',
    destination: { maxPendingBytes: 32 * 1024, checkIntervalMs: 50, reportIntervalMs: 300, report: (t) => reports.push(t) },
  });
  logging.logger.info({ seq: -1 }, 'before the disk filled');
  const filler = fillUp(mount);
  const started = Date.now();
  let seq = 0;
  while (Date.now() - started < 1000) {
    assert.doesNotThrow(() => logging.logger.info({ seq: seq++, payload: 'z'.repeat(200) }, 'while full'));
    await sleep(2);
  }
  const during = logging.stats();
  assert.ok(during.writeFailures > 0, 'failures counted');
  assert.match(during.lastError ?? '', /ENOSPC/);
  assert.ok(during.linesDropped > 0, 'lines beyond the bound dropped and counted');
  assert.ok(during.pendingBytes <= 32 * 1024 + 1024, `pending ${during.pendingBytes} bytes`);
  assert.ok(reports.length >= 2 && reports.length <= 6, `${reports.length} reports in ~1 s at one per 300 ms`);
  assert.match(reports[0] ?? '', /ENOSPC/);

  fs.rmSync(filler);
  await sleep(300); // no log call needed: the check timer retries the backlog
  assert.equal(logging.stats().pendingBytes, 0);
  logging.logger.info({ seq: 'after' }, 'after space returned');
  const final = logging.stats();
  await logging.close();
  const records = readRecords(path.join(mount, 'logs'));
  assert.equal(records.at(-1)?.seq, 'after');
  assert.equal(records.length, seq + 2 - final.linesDropped, 'every line not dropped reached the disk');
  const seqs = records.map((r) => r.seq).filter((s): s is number => typeof s === 'number');
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
});

test('lines a full disk left unwritten are written whole to the new file when the old one is removed', async () => {
  const mount = smallFilesystem(256 * 1024);
  const dir = path.join(mount, 'logs');
  const logging = await createLogging({
    settings: testSettings(dir),
    stdout: 'off',
    destination: { maxPendingBytes: 256 * 1024, checkIntervalMs: 50, reportIntervalMs: 60_000, report: () => {} },
  });
  for (let i = 0; i < 5; i++) logging.logger.info({ seq: i, payload: 'a'.repeat(300) }, 'before the disk filled');
  const filler = fillUp(mount);
  let seq = 5;
  // Lines of odd lengths, so one is likely cut by a short write at the edge of the full disk.
  for (; seq < 60; seq++) logging.logger.info({ seq, payload: 'b'.repeat(100 + ((seq * 37) % 400)) }, 'while full');
  const during = logging.stats();
  assert.ok(during.writeFailures > 0, 'the full disk was noticed');
  assert.ok(during.pendingBytes > 10_000, `${during.pendingBytes} bytes owed to the file`);
  assert.equal(during.linesDropped, 0, 'within the bound nothing is dropped');
  await sleep(150); // a check sees the file (and its size, up to the cut line) still linked
  const oldFile = logging.currentFile() ?? '';
  const oldFd = fs.openSync(oldFile, 'r'); // to read what reached the file after it is removed
  // The directory goes (and with it the space the file took): the destination opens a new file.
  fs.rmSync(dir, { recursive: true });
  fs.rmSync(filler);
  await sleep(300);
  assert.ok(logging.stats().fileReopens >= 1);
  assert.equal(logging.stats().pendingBytes, 0);
  logging.logger.info({ seq }, 'after');
  await logging.close();
  const reached = fs.readFileSync(oldFd, 'utf8');
  fs.closeSync(oldFd);
  const newLines = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter((l) => l.length > 0));
  // The new file holds whole lines only (a line cut by a short write is written again whole), in
  // order, once each, up to the last one...
  const newSeqs = newLines.map((l) => (JSON.parse(l) as { seq: number }).seq);
  const first = newSeqs[0] ?? -1;
  assert.deepEqual(newSeqs, Array.from({ length: seq + 1 - first }, (_, i) => first + i));
  // ...and with the whole lines that reached the removed file, every line is somewhere.
  const reachedWhole = reached.slice(0, reached.lastIndexOf('\n') + 1).split('\n').filter((l) => l.length > 0);
  const all = new Set([...reachedWhole, ...newLines].map((l) => (JSON.parse(l) as { seq: number }).seq));
  assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: seq + 1 }, (_, i) => i));
});

test('a removed log directory is recreated and the lines written meanwhile are written again', async () => {
  const dir = path.join(tempDir(), 'logs');
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off', destination: { checkIntervalMs: 50, report: () => {} } });
  for (let i = 0; i < 10; i++) logging.logger.info({ seq: i }, 'before');
  fs.rmSync(dir, { recursive: true });
  for (let i = 10; i < 20; i++) logging.logger.info({ seq: i }, 'into the removed file');
  await sleep(200);
  for (let i = 20; i < 30; i++) logging.logger.info({ seq: i }, 'after');
  const stats = logging.stats();
  await logging.close();
  assert.ok(stats.fileReopens >= 1);
  assert.match(stats.lastError ?? '', /removed/);
  // Lines 0-19 were in the removed file (not yet confirmed on disk by a check): all are written again.
  assert.deepEqual(readRecords(dir).map((r) => r.seq), Array.from({ length: 30 }, (_, i) => i));
});

test('a directory that cannot be created yet: lines wait within the bound, then are written once it can be', async () => {
  const parent = tempDir();
  const dir = path.join(parent, 'logs');
  fs.writeFileSync(dir, 'a file where the directory should be');
  const logging = await createLogging({
    settings: testSettings(dir),
    stdout: 'off',
    destination: { maxPendingBytes: 8 * 1024, checkIntervalMs: 50, report: () => {} },
  });
  assert.equal(logging.currentFile(), null);
  for (let i = 0; i < 1000; i++) logging.logger.info({ seq: i }, 'waiting');
  const during = logging.stats();
  assert.ok(during.pendingBytes <= 8 * 1024);
  assert.ok(during.linesDropped > 900);
  assert.ok(during.writeFailures >= 1);
  fs.rmSync(dir);
  await sleep(200);
  assert.notEqual(logging.currentFile(), null);
  logging.logger.info({ seq: 'after' }, 'after');
  await logging.close();
  const seqs = readRecords(dir).map((r) => r.seq);
  assert.equal(seqs.length, 1000 - during.linesDropped + 1);
  assert.equal(seqs[0], 0, 'the first lines were kept, the later ones dropped');
  assert.equal(seqs.at(-1), 'after');
});

test('EACCES: an unprivileged process on a directory it cannot write keeps running and writes once it can', { skip: process.getuid?.() !== 0 ? 'needs root to start a child as another user' : false }, async () => {
  const dir = tempDir(); // mode 0700, owned by root
  // The child drops to `nobody` itself after loading its modules: the checkout may be unreadable to nobody.
  const child = spawn(process.execPath, [fixture('unwritable-dir.js'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await ready;
  fs.chmodSync(dir, 0o777);
  assert.equal(await exited, 0, stderr);
  const readyStats = JSON.parse(/ready (.*)/.exec(stdout)?.[1] ?? '{}') as { writeFailures: number; lastError: string };
  assert.ok(readyStats.writeFailures >= 1);
  assert.match(readyStats.lastError, /EACCES/);
  assert.match(stderr, /\[logger\] .*EACCES/);
  assert.deepEqual(readRecords(dir).map((r) => r.seq), Array.from({ length: 11 }, (_, i) => i));
});
