import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { LogController } from 'fastify';
import { createLogging } from '../src/index.js';
import { readLines, readRecords, runNode, tempDir, testSettings } from './helpers.js';
import { fileURLToPath } from 'node:url';

test('the same logger instance serves Fastify: request logs land in the same file with request ids, no headers', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off' });
  const app = Fastify({ loggerInstance: logging.logger, logController: new LogController({ requestIdLogLabel: 'request_id' }) });
  app.get('/api/hello', async (request) => {
    request.log.info({ event: 'hello.handled' }, 'handled');
    return { ok: true };
  });
  const res = await app.inject({ method: 'GET', url: '/api/hello?token=abcdef123', headers: { authorization: 'Bearer zzzzzzzzzz' } });
  assert.equal(res.statusCode, 200);
  await app.close();
  await logging.close();
  const records = readRecords(dir);
  const incoming = records.find((r) => r.message === 'incoming request');
  const handled = records.find((r) => r.event === 'hello.handled');
  const completed = records.find((r) => r.message === 'request completed');
  assert.ok(incoming && handled && completed, JSON.stringify(records));
  assert.equal(typeof incoming.request_id, 'string');
  assert.equal(handled.request_id, incoming.request_id);
  assert.deepEqual(incoming.req, { method: 'GET', url: '/api/hello?token=[REDACTED]', host: 'localhost', remote_address: '127.0.0.1' });
  assert.deepEqual(completed.res, { status_code: 200 });
  assert.equal(typeof completed.responseTime, 'number');
  assert.ok(!JSON.stringify(records).includes('zzzzzzzzzz'));
});

test('child loggers per module and per request carry their fields; grandchildren keep both', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off', base: { instance_id: 'run-7' } });
  const analysis = logging.logger.child({ module: 'analysis' });
  const request = analysis.child({ request_id: 'req-9' });
  request.info({ event: 'analysis.start' }, 'start');
  analysis.info('module only');
  await logging.close();
  const [first, second] = readRecords(dir);
  assert.equal(first?.module, 'analysis');
  assert.equal(first?.request_id, 'req-9');
  assert.equal(first?.instance_id, 'run-7');
  assert.equal(second?.module, 'analysis');
  assert.ok(!('request_id' in (second ?? {})));
});

test('a child that rebinds a key replaces it: every key appears once in the line, with the newest value', async () => {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir), stdout: 'off', base: { instance_id: 'run-1' } });
  const http = logging.logger.child({ module: 'http', request_id: 'r-1' });
  const analysis = http.child({ module: 'analysis' });
  analysis.info({ event: 'x' }, 'rebound');
  http.child({ stage: 'decode' }).child({ stage: 'rhythm' }).warn('twice');
  await logging.close();
  const lines = readLines(dir);
  for (const line of lines) {
    const keys = [...line.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]);
    const top = keys.filter((k) => ['module', 'stage', 'request_id', 'instance_id', 'service'].includes(k ?? ''));
    assert.equal(new Set(top).size, top.length, `duplicate key in ${line}`);
  }
  const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(first?.module, 'analysis');
  assert.equal(first?.request_id, 'r-1');
  assert.equal(first?.instance_id, 'run-1');
  assert.equal(second?.stage, 'rhythm');
  assert.equal(second?.level, 'warn');
});

test('LOG_STDOUT=json mirrors the same lines to stdout; pretty gives readable lines; the file gets them either way', async () => {
  const script = fileURLToPath(new URL('./fixtures/mirror.js', import.meta.url));
  for (const mode of ['json', 'pretty', 'off']) {
    const dir = tempDir();
    const result = await runNode(script, [dir], { env: { ...process.env, LOG_STDOUT: mode } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readRecords(dir).length, 1);
    if (mode === 'json') assert.equal((JSON.parse(result.stdout.trim()) as { message: string }).message, 'mirrored line');
    if (mode === 'pretty') assert.match(result.stdout, /INFO.*mirrored line/);
    if (mode === 'off') assert.equal(result.stdout, '');
  }
});
