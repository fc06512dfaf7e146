import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createLogging, logRecordJsonSchema, defaultLogSettings, TIME_FORMAT } from '../src/index.js';
import { readLines, tempDir, testSettings } from './helpers.js';

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(logRecordJsonSchema);

test('every line written validates against the exported JSON Schema', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir, { level: 'debug' }), stdout: 'off', base: { instance_id: 'i-1' } });
  const log = logging.logger.child({ module: 'analysis' });
  log.debug('debug line');
  log.info({ event: 'analysis.start', request_id: 'r1', file_name: 'a.wav', file_size_mb: 3.25, duration_ms: 12, rss_mb: 200.5 }, 'start');
  log.warn({ event: 'memory.pressure' });
  log.error(new Error('boom', { cause: new TypeError('inner') }));
  log.fatal({ nested: { a: [1, 2, { b: 'c' }] } }, 'fatal');
  logging.logger.info('root line without module');
  await logging.close();
  const lines = readLines(dir);
  assert.equal(lines.length, 6);
  for (const line of lines) {
    const record: unknown = JSON.parse(line);
    assert.ok(validate(record), `${line}\n${ajv.errorsText(validate.errors)}`);
  }
});

test('time is ISO-8601 UTC with exactly three fraction digits, and close to now', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off' });
  const before = Date.now();
  for (let i = 0; i < 50; i++) logging.logger.info('tick');
  const after = Date.now();
  await logging.close();
  for (const line of readLines(dir)) {
    const { time } = JSON.parse(line) as { time: string };
    assert.match(time, TIME_FORMAT.pattern);
    const t = Date.parse(time);
    assert.ok(t >= before && t <= after, `${time} outside the call window`);
  }
});

test('levels are labels; message, service and module are present; numbers stay numbers', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir, { level: 'debug', service: 'svc-x' }), stdout: 'off' });
  const log = logging.logger.child({ module: 'decode' });
  log.debug({ duration_ms: 1.5 }, 'd');
  log.info({ file_size_mb: 0 }, 'i');
  log.warn({ rss_mb: 1e3 }, 'w');
  log.error({ count: -7 }, 'e');
  log.fatal({ ratio: 0.125 }, 'f');
  await logging.close();
  const records = readLines(dir).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(records.map((r) => r.level), ['debug', 'info', 'warn', 'error', 'fatal']);
  assert.deepEqual(records.map((r) => r.message), ['d', 'i', 'w', 'e', 'f']);
  for (const r of records) {
    assert.equal(r.service, 'svc-x');
    assert.equal(r.module, 'decode');
  }
  assert.equal(records[0]?.duration_ms, 1.5);
  assert.equal(records[1]?.file_size_mb, 0);
  assert.equal(records[2]?.rss_mb, 1000);
  assert.equal(records[3]?.count, -7);
  assert.equal(records[4]?.ratio, 0.125);
});

test('lines below the configured level are not written', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir, { level: 'warn' }), stdout: 'off' });
  logging.logger.info('hidden');
  logging.logger.warn('shown');
  await logging.close();
  assert.deepEqual(readLines(dir).map((l) => (JSON.parse(l) as { message: string }).message), ['shown']);
});

test('a caller field named like a reserved field cannot overwrite it', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off' });
  logging.logger.info({ time: 5, level: 'nope' }, 'real message');
  logging.logger.info({ message: 'from object' });
  await logging.close();
  const [first, second] = readLines(dir);
  assert.ok(first && second);
  assert.equal((first.match(/"time":/g) ?? []).length, 1);
  const r1 = JSON.parse(first) as Record<string, unknown>;
  assert.equal(r1.level, 'info');
  assert.equal(r1.ctx_time, 5);
  assert.equal(r1.ctx_level, 'nope');
  assert.equal((JSON.parse(second) as Record<string, unknown>).message, 'from object');
  assert.equal(defaultLogSettings.messageKey, 'message');
});
