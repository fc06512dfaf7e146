import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createLogging, listLogFiles, resolveRetentionSettings, LogSettingsError, SIDECAR_TAIL_DB, type LogSettings, type RetentionSettings } from '../src/index.js';
import { readLines, tempDir, testSettings, writeTailDb } from './helpers.js';

const rotation = { maxFileBytes: 4096, keepFiles: 2, frequency: null };

function settingsIn(dir: string): LogSettings {
  return testSettings(dir, { rotation });
}

function retentionIn(dir: string, extra: Partial<RetentionSettings> = {}): RetentionSettings {
  return { waitForSidecar: true, sidecarDb: path.join(dir, SIDECAR_TAIL_DB), budgetBytes: 1024 * 1024, ...extra };
}

/** Writes `lines` records, each ~300 bytes: about 14 per 4 KiB file. */
async function writeRun(dir: string, lines: number, retention: RetentionSettings, from = 0) {
  const logging = await createLogging({ settings: settingsIn(dir), retention, stdout: 'off' });
  for (let i = 0; i < lines; i++) logging.logger.info({ seq: from + i, pad: 'p'.repeat(180) }, 'line');
  const stats = logging.stats();
  await logging.close();
  return { stats: { ...logging.stats(), rotationsDuringRun: stats.rotations } };
}

const names = (dir: string): string[] => listLogFiles({ dir, file: settingsIn(dir).file }).map((f) => f.name);

test('without a sidecar to wait for, files beyond keepFiles go at once', async () => {
  const dir = tempDir();
  await writeRun(dir, 200, retentionIn(dir, { waitForSidecar: false }));
  assert.equal(names(dir).length, 2);
});

test('waiting for the sidecar: before it has ever started (no DB), no file is deleted', async () => {
  const dir = tempDir();
  const { stats } = await writeRun(dir, 200, retentionIn(dir));
  assert.ok(stats.rotationsDuringRun >= 10, `${stats.rotationsDuringRun} rotations`);
  assert.equal(names(dir).length, stats.rotationsDuringRun + 1);
  assert.equal(stats.filesWaitingForSidecar, stats.rotationsDuringRun - 1);
  assert.equal(readLines(dir).length, 200);
});

test('a file the sidecar has read to the end goes; one it read only partly, or under another name, stays', async () => {
  const dir = tempDir();
  await writeRun(dir, 100, retentionIn(dir));
  const files = listLogFiles({ dir, file: settingsIn(dir).file }).reverse(); // oldest first
  assert.ok(files.length >= 5);
  const [first, second, third] = files as [typeof files[0], typeof files[0], typeof files[0]];
  const ino = (f: { path: string }): number => fs.statSync(f.path).ino;
  await writeTailDb(dir, [
    { file: first.path, offset: fs.statSync(first.path).size, inode: ino(first) },
    { file: second.path, offset: fs.statSync(second.path).size - 10, inode: ino(second) },
    // the third file's inode under another name: a deleted file's inode, reused; not this file
    { file: path.join(dir, 'app.999.log'), offset: 1e9, inode: ino(third) },
  ]);
  const logging = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir), stdout: 'off' });
  await logging.close();
  const left = names(dir);
  assert.ok(!left.includes(first.name), 'read to the end: deleted');
  assert.ok(left.includes(second.name), '10 bytes unread: kept');
  assert.ok(left.includes(third.name), 'inode matches but the name does not: kept');
  assert.equal(logging.stats().filesDroppedUnread, 0);
});

test('the volume budget forces the oldest files out even unread, and counts and logs the bytes dropped unread', async () => {
  const dir = tempDir();
  const budgetBytes = 5 * 4096;
  const logging = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir, { budgetBytes }), stdout: 'off' });
  for (let i = 0; i < 200; i++) logging.logger.info({ seq: i, pad: 'p'.repeat(180) }, 'line');
  await new Promise((r) => setTimeout(r, 50));
  await logging.close();
  const stats = logging.stats();
  const files = listLogFiles({ dir, file: settingsIn(dir).file });
  const total = files.reduce((sum, f) => sum + fs.statSync(f.path).size, 0);
  assert.ok(total <= budgetBytes + 4096, `${total} bytes kept for a budget of ${budgetBytes}`);
  assert.ok(stats.filesDroppedUnread >= 5, `${stats.filesDroppedUnread} files dropped`);
  const reports = readLines(dir)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.event === 'log.dropped_unread');
  assert.ok(reports.length >= 1, 'the loss is logged');
  const reported = reports[0]!;
  assert.equal(reported.level, 'error');
  assert.equal(reported.budget_bytes, budgetBytes);
  assert.ok(typeof reported.bytes_unread === 'number' && reported.bytes_unread > 3000, String(reported.bytes_unread));
  assert.match(String(reported.file_name), /^app\.[^.]+\.\d+\.log$/);
  assert.ok(stats.bytesDroppedUnread >= stats.filesDroppedUnread * 3000);
});

test('LOG_WAIT_FOR_SIDECAR and LOG_VOLUME_MB: the budget is half the volume; bad values are refused by name', () => {
  const settings = settingsIn('/var/log/x');
  assert.deepEqual(resolveRetentionSettings(settings, {}), { waitForSidecar: false, sidecarDb: `/var/log/x/${SIDECAR_TAIL_DB}`, budgetBytes: 20 * 4096 });
  const pod = resolveRetentionSettings(settings, { LOG_WAIT_FOR_SIDECAR: 'on', LOG_VOLUME_MB: '1024' });
  assert.equal(pod.waitForSidecar, true);
  assert.equal(pod.budgetBytes, 512 * 1024 * 1024);
  assert.throws(() => resolveRetentionSettings(settings, { LOG_WAIT_FOR_SIDECAR: 'maybe' }), (e: unknown) => e instanceof LogSettingsError && /LOG_WAIT_FOR_SIDECAR/.test(e.message));
  assert.throws(() => resolveRetentionSettings(settings, { LOG_VOLUME_MB: '0.5' }), (e: unknown) => e instanceof LogSettingsError && /LOG_VOLUME_MB/.test(e.message));
});

test('two writers on one directory: each one\'s retention deletes only its own files, never the other\'s open file', async () => {
  const dir = tempDir();
  const retention = retentionIn(dir, { waitForSidecar: false });
  const other = await createLogging({ settings: settingsIn(dir), retention, stdout: 'off' });
  for (let i = 0; i < 40; i++) other.logger.info({ seq: i, pad: 'p'.repeat(180) }, 'other');
  await new Promise((r) => setTimeout(r, 50)); // its own sweep after the rotations
  const othersFiles = listLogFiles({ dir, file: settingsIn(dir).file }, { owner: other.owner() ?? '' }).map((f) => f.name);
  assert.equal(othersFiles.length, 2, 'the other writer rotated and kept two files');
  await writeRun(dir, 200, retention, 1000); // another writer, many rotations, its own sweeps
  for (const name of othersFiles) assert.ok(fs.existsSync(path.join(dir, name)), `${name} of the other writer is still there`);
  other.logger.info({ seq: 40 }, 'other, after the sweeps');
  await other.close();
  const seqs = readLines(dir).map((l) => (JSON.parse(l) as { seq: number }).seq).filter((s) => s < 1000);
  assert.ok(seqs.includes(40), 'the other writer\'s later line reached its file');
});
