import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import picomatch from 'picomatch';
import { createLogging, defaultLogSettings, listLogFiles, type LogSettings } from '@guitar-backend/logger';
import { renderVariant, TAIL_DB_FILE } from '../src/index.js';
import { parseClassic } from './helpers.js';

function tailPaths(settings: LogSettings): { include: string[]; exclude: string[] } {
  const tail = parseClassic(renderVariant('k8s', { settings }).classic).find((s) => s.entries.some(([k, v]) => k === 'name' && v === 'tail'));
  const get = (k: string): string[] => (tail?.entries.find(([key]) => key === k)?.[1] ?? '').split(',').filter(Boolean);
  return { include: get('path'), exclude: get('exclude_path') };
}

for (const frequency of [null, 'daily', 'hourly'] as const) {
  test(`the tail Path glob matches exactly the files the logger wrote (rotation ${frequency ?? 'by size'}), not a symlink nor the DB`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluent-config-glob-'));
    const settings: LogSettings = { ...defaultLogSettings, dir, rotation: { maxFileBytes: 2048, keepFiles: 50, frequency } };
    const logging = await createLogging({ settings, stdout: 'off' });
    for (let i = 0; i < 100; i++) logging.logger.info({ seq: i }, 'rotate me');
    await logging.close();
    const real = listLogFiles(settings).map((f) => f.path).sort();
    assert.ok(real.length > 3);
    // What else may sit on the shared volume: pino-roll's symlink (were it turned on), the sidecar's DB, stray files.
    fs.symlinkSync(path.basename(real[0]!), path.join(dir, 'current.log'));
    for (const extra of [TAIL_DB_FILE, `${TAIL_DB_FILE}-wal`, `${TAIL_DB_FILE}-shm`, 'notes.txt', 'app.1.log.gz']) fs.writeFileSync(path.join(dir, extra), '');

    const { include, exclude } = tailPaths(settings);
    const included = picomatch(include);
    const excluded = picomatch(exclude);
    const read = fs
      .readdirSync(dir)
      .map((n) => path.join(dir, n))
      .filter((p) => included(p) && !excluded(p));
    assert.deepEqual(read.sort(), real);
  });
}
