import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogging, DEFAULT_MAX_LINE_BYTES } from '../src/index.js';
import { readLines, readRecords, tempDir, testSettings } from './helpers.js';

async function withLogger(fn: (log: Awaited<ReturnType<typeof createLogging>>['logger']) => void, maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
  const dir = tempDir();
  const logging = await createLogging({ settings: testSettings(dir, { maxLineBytes }), stdout: 'off' });
  assert.doesNotThrow(() => fn(logging.logger));
  const stats = logging.stats();
  await logging.close();
  return { records: readRecords(dir), lines: readLines(dir), stats };
}

test('circular objects, BigInt, symbols, functions and undefined never throw and come out readable', async () => {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  circular.list = [circular, { back: circular }];
  const { records } = await withLogger((log) => {
    log.info({ circular }, 'circular');
    log.info({ small: 42n, huge: 2n ** 70n, sym: Symbol('s'), fn: function named() {}, nothing: undefined, nul: null }, 'types');
    log.info(undefined as unknown as string);
    log.info(Symbol('as-message') as unknown as string);
    log.info({ date: new Date(0), bad: new Date(NaN), buf: Buffer.alloc(10), map: new Map([['a', 1]]), set: new Set([1, 2]) }, 'objects');
  });
  const c = records[0]?.circular as Record<string, any>;
  assert.equal(c.name, 'loop');
  assert.equal(c.self, '[Circular]');
  assert.equal(c.list[0], '[Circular]');
  assert.equal(c.list[1].back, '[Circular]');
  const t = records[1] as Record<string, unknown>;
  assert.equal(t.small, 42);
  assert.equal(t.huge, (2n ** 70n).toString());
  assert.equal(t.sym, 'Symbol(s)');
  assert.equal(t.fn, '[Function named]');
  assert.ok(!('nothing' in t));
  assert.equal(t.nul, null);
  assert.equal(records[2]?.message, '');
  assert.equal(records[3]?.message, 'Symbol(as-message)');
  const o = records[4] as Record<string, any>;
  assert.equal(o.date, '1970-01-01T00:00:00.000Z');
  assert.equal(o.bad, 'Invalid Date');
  assert.equal(o.buf, '[Buffer 10 bytes]');
  assert.deepEqual(o.map, { a: 1 });
  assert.deepEqual(o.set, [1, 2]);
});

test('Errors are serialized with type, message, stack, code and their whole cause chain, cycles included', async () => {
  const root = Object.assign(new RangeError('root cause'), { code: 'E_ROOT' });
  const middle = new Error('middle', { cause: root });
  const top = new TypeError('top', { cause: middle });
  const selfCaused = new Error('self');
  (selfCaused as { cause?: unknown }).cause = selfCaused;
  const aggregate = new AggregateError([new Error('a'), new Error('b')], 'many');
  const { records } = await withLogger((log) => {
    log.error(top);
    log.error({ error: selfCaused }, 'self caused');
    log.error({ error: aggregate, request_id: 'r' });
  });
  const e = records[0]?.error as Record<string, any>;
  assert.equal(records[0]?.message, 'top');
  assert.equal(e.type, 'TypeError');
  assert.match(e.stack, /^TypeError: top\n\s+at /);
  assert.equal(e.cause.message, 'middle');
  assert.equal(e.cause.cause.type, 'RangeError');
  assert.equal(e.cause.cause.code, 'E_ROOT');
  assert.match(e.cause.cause.stack, /RangeError: root cause/);
  assert.equal((records[1]?.error as Record<string, unknown>).cause, '[Circular]');
  const agg = records[2]?.error as Record<string, any>;
  assert.equal(records[2]?.message, 'many');
  assert.deepEqual(agg.errors.map((x: { message: string }) => x.message), ['a', 'b']);
});

test('getters that throw do not break the call', async () => {
  const hostile = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
  const { records } = await withLogger((log) => log.info({ hostile }, 'hostile'));
  assert.equal((records[0]?.hostile as Record<string, unknown>).boom, '[Unreadable: no]');
});

test('huge strings are truncated with a marker and no line ever exceeds the max line size', async () => {
  const max = 4096;
  const { records, lines, stats } = await withLogger((log) => {
    log.info({ big: 'x'.repeat(1_000_000) }, 'one huge field');
    log.info('m'.repeat(100_000));
    log.info({ many: Array.from({ length: 50 }, (_, i) => `${i}:${'y'.repeat(3000)}`) }, 'many medium fields');
    log.info({ wide: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i])) }, 'many keys');
    log.info({ emoji: '🎸'.repeat(20_000) }, 'multibyte');
  }, max);
  assert.equal(lines.length, 5);
  for (const line of lines) assert.ok(Buffer.byteLength(line) + 1 <= max, `line of ${Buffer.byteLength(line)} bytes`);
  assert.match(String(records[0]?.big), /…\[truncated \d+ chars\]$/);
  assert.match(String(records[1]?.message), /…\[truncated \d+ chars\]$/);
  assert.equal(records[2]?.truncated, true);
  assert.ok(stats.linesTruncated >= 2);
  for (const r of records) assert.equal(typeof r.time, 'string');
});
