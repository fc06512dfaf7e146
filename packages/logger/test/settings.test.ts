import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CONTAINER_LOG_DIR, LogSettingsError, defaultLogSettings, resolveLogSettings } from '../src/index.js';

test('the defaults are the contract', () => {
  assert.equal(defaultLogSettings.dir, CONTAINER_LOG_DIR);
  assert.equal(CONTAINER_LOG_DIR, '/var/log/guitar-backend');
  assert.equal(defaultLogSettings.timeKey, 'time');
  assert.equal(defaultLogSettings.time.strftime, '%Y-%m-%dT%H:%M:%S.%L%z');
  assert.equal(defaultLogSettings.levelKey, 'level');
  assert.equal(defaultLogSettings.messageKey, 'message');
  assert.equal(defaultLogSettings.maxLineBytes, 16 * 1024);
  assert.equal(defaultLogSettings.file.glob, 'app.*.log');
});

test('LOG_DIR and the rotation variables are read from the environment; locally the directory is under the project', () => {
  const local = resolveLogSettings({}, '/repo/packages/app');
  assert.equal(local.dir, path.resolve('/repo/packages/app', 'logs'));
  const s = resolveLogSettings(
    { LOG_DIR: '/var/log/guitar-backend', LOG_LEVEL: 'DEBUG', LOG_MAX_FILE_MB: '5', LOG_KEEP_FILES: '7', LOG_ROTATE: 'daily', SERVICE_NAME: 'gb' },
    '/x',
  );
  assert.equal(s.dir, '/var/log/guitar-backend');
  assert.equal(s.level, 'debug');
  assert.deepEqual(s.rotation, { maxFileBytes: 5 * 1024 * 1024, keepFiles: 7, frequency: 'daily' });
  assert.equal(s.service, 'gb');
});

test('bad values are refused with a message naming the variable and what it accepts', () => {
  assert.throws(() => resolveLogSettings({ LOG_LEVEL: 'loud' }), (e: Error) => e instanceof LogSettingsError && /LOG_LEVEL must be one of trace, debug, info, warn, error, fatal/.test(e.message));
  assert.throws(() => resolveLogSettings({ LOG_MAX_FILE_MB: '-1' }), /LOG_MAX_FILE_MB must be a whole number ≥ 1/);
  assert.throws(() => resolveLogSettings({ LOG_KEEP_FILES: '1' }), /LOG_KEEP_FILES must be a whole number ≥ 2/);
  assert.throws(() => resolveLogSettings({ LOG_ROTATE: 'weekly' }), /LOG_ROTATE must be one of none, hourly, daily/);
  assert.throws(() => resolveLogSettings({ LOG_MAX_LINE_BYTES: '100' }), /LOG_MAX_LINE_BYTES/);
});
