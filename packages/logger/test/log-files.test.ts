import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultLogSettings, listLogFiles, parseLogFileName, createLogging } from '../src/index.js';
import { tempDir, testSettings } from './helpers.js';

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

test('the contract glob and pattern match the file names the logger really writes, by size and by time, and nothing else', async () => {
  const names: string[] = [];
  const pidFiles: string[] = [];
  for (const frequency of [null, 'daily', 'hourly'] as const) {
    const dir = tempDir();
    const logging = await createLogging({
      settings: testSettings(dir, { rotation: { maxFileBytes: 4096, keepFiles: 100, frequency } }),
      stdout: 'off',
    });
    for (let i = 0; i < 200; i++) logging.logger.info({ seq: i }, 'x');
    const owner = logging.owner();
    assert.match(owner ?? '', /^[a-z0-9-]+_0$/);
    pidFiles.push(...fs.readdirSync(dir).filter((n) => !n.endsWith('.log')));
    await logging.close();
    const written = fs.readdirSync(dir);
    for (const name of written) assert.equal(parseLogFileName(name, defaultLogSettings)?.owner, owner, name);
    names.push(...written);
  }
  assert.deepEqual(new Set(pidFiles.map((n) => n.replace(/^app\.[a-z0-9-]+_0\.pid$/, 'pid file'))), new Set(['pid file']), 'while open, a pid file holds the slot');
  assert.ok(names.length > 6);
  const glob = globToRegExp(defaultLogSettings.file.glob);
  for (const name of names) {
    assert.match(name, glob);
    assert.ok(parseLogFileName(name, defaultLogSettings), name);
  }
  assert.ok(names.some((n) => /^app\.[a-z0-9-]+_0\.\d{4}-\d{2}-\d{2}\.\d+\.log$/.test(n)), 'daily names carry owner and date');
  assert.ok(names.some((n) => /^app\.[a-z0-9-]+_0\.\d{4}-\d{2}-\d{2}-\d{2}\.\d+\.log$/.test(n)), 'hourly names carry owner, date and hour');
  for (const other of ['current.log', 'fluent-bit-tail.db', 'fluent-bit-tail.db-wal', 'app.log', 'other.1.log', 'app.web-1_0.pid', 'app.web-1_0.pid.5d1c.tmp', 'app.web-1_0.pid.5d1c.stale']) {
    assert.doesNotMatch(other, glob);
    assert.equal(parseLogFileName(other, defaultLogSettings), null);
  }
});

test('listLogFiles gives the real files newest first, leaving out symlinks, directories and foreign files', () => {
  const dir = tempDir();
  for (const name of ['app.1.log', 'app.2.log', 'app.10.log', 'app.2026-11-20.3.log', 'app.2026-11-21.1.log', 'app.web-1_0.11.log', 'app.web-1_0.2026-11-21.2.log', 'app.web-2_3.12.log', 'app.web-1_0.pid', 'notes.txt', 'fluent-bit-tail.db']) {
    fs.writeFileSync(path.join(dir, name), '');
  }
  fs.symlinkSync('app.10.log', path.join(dir, 'app.99.log'));
  fs.mkdirSync(path.join(dir, 'app.50.log'));
  const names = listLogFiles({ dir, file: defaultLogSettings.file }).map((f) => f.name);
  assert.deepEqual(names, ['app.web-1_0.2026-11-21.2.log', 'app.2026-11-21.1.log', 'app.2026-11-20.3.log', 'app.web-2_3.12.log', 'app.web-1_0.11.log', 'app.10.log', 'app.2.log', 'app.1.log']);
  assert.deepEqual(listLogFiles({ dir, file: defaultLogSettings.file }, { owner: 'web-1_0' }).map((f) => [f.name, f.owner, f.date, f.sequence]), [
    ['app.web-1_0.2026-11-21.2.log', 'web-1_0', '2026-11-21', 2],
    ['app.web-1_0.11.log', 'web-1_0', null, 11],
  ]);
  assert.deepEqual(listLogFiles({ dir: path.join(dir, 'missing'), file: defaultLogSettings.file }), []);
});

test('a restart appends to the newest file instead of starting over, and old files beyond keepFiles are removed across runs', async () => {
  const dir = tempDir();
  const settings = testSettings(dir, { rotation: { maxFileBytes: 2048, keepFiles: 3, frequency: null } });
  for (let run = 0; run < 3; run++) {
    const logging = await createLogging({ settings, stdout: 'off' });
    for (let i = 0; i < 60; i++) logging.logger.info({ run, seq: i }, 'line');
    await logging.close();
    await new Promise((r) => setTimeout(r, 50)); // pino-roll removes old files asynchronously
  }
  const files = listLogFiles({ dir, file: defaultLogSettings.file });
  assert.ok(files.length <= 3, `${files.length} files kept: ${files.map((f) => f.name).join(', ')}`);
  assert.ok((files[0]?.sequence ?? 0) > 3, 'numbering continued across restarts');
});
