import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMemoryLimit, readOomKillCount } from '../src/memory/cgroup.js';
import { IdleCollector } from '../src/memory/idle-collect.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';
import { MemoryWatch, type PressureEvent } from '../src/memory/watch.js';
import { songWav } from '../src/index.js';
import { startTestService, tempDir, upload } from './helpers.js';

function fakeRoot(files: Record<string, string>): string {
  const root = tempDir('cgroup-');
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  return root;
}

test('the memory limit comes from cgroup v2, then v1, then MEMORY_LIMIT_MB, else none', () => {
  assert.deepEqual(readMemoryLimit(null, fakeRoot({ 'sys/fs/cgroup/memory.max': '1610612736\n' })), { bytes: 1610612736, source: 'cgroup-v2' });
  assert.deepEqual(readMemoryLimit(5, fakeRoot({ 'sys/fs/cgroup/memory.max': 'max\n' })), { bytes: 5, source: 'MEMORY_LIMIT_MB' });
  assert.deepEqual(readMemoryLimit(null, fakeRoot({ 'sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456' })), { bytes: 268435456, source: 'cgroup-v1' });
  assert.deepEqual(readMemoryLimit(null, fakeRoot({ 'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })), { bytes: null, source: 'none' });
  // On a host, the process's own cgroup (from /proc/self/cgroup) wins over the mount root.
  const host = fakeRoot({
    'proc/self/cgroup': '4:memory:/pods/app\n0::/\n',
    'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
    'sys/fs/cgroup/memory/pods/app/memory.limit_in_bytes': '536870912',
  });
  assert.deepEqual(readMemoryLimit(null, host), { bytes: 536870912, source: 'cgroup-v1' });
});

test('the OOM-kill count is read from memory.events (v2) or memory.oom_control (v1)', () => {
  assert.equal(readOomKillCount(fakeRoot({ 'sys/fs/cgroup/memory.events': 'low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n' })), 2);
  assert.equal(readOomKillCount(fakeRoot({ 'sys/fs/cgroup/memory/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 7\n' })), 7);
  assert.equal(readOomKillCount(fakeRoot({})), null);
});

test('each threshold is reported once per analysis, with its stage and file; none without a limit', () => {
  let rss = 100;
  const events: PressureEvent[] = [];
  const watch = new MemoryWatch(200, [70, 85, 95], (e) => events.push(e), 1_000_000, () => rss);
  const a = watch.track('req-a', 'a.wav');
  a.setStage('decode');
  rss = 150; // 75 %
  a.setStage('rhythm');
  rss = 180; // 90 %
  a.setStage('onsets');
  rss = 150;
  a.setStage('key');
  rss = 195; // 97.5 %
  a.setStage('notes');
  const b = watch.track('req-b', 'b.wav'); // starts at 97.5 %: crosses all three at once
  a.stop();
  b.stop();
  assert.deepEqual(
    events.map((e) => [e.requestId, e.threshold, e.stage]),
    [['req-a', 70, 'rhythm'], ['req-a', 85, 'onsets'], ['req-a', 95, 'notes'], ['req-b', 70, 'queued'], ['req-b', 85, 'queued'], ['req-b', 95, 'queued']],
  );
  assert.equal(events[0]?.fileName, 'a.wav');
  assert.equal(a.peakRss(), 195);
  const none: PressureEvent[] = [];
  const unlimited = new MemoryWatch(null, [70], (e) => none.push(e), 1_000_000, () => 1e12);
  unlimited.track('x', 'x.wav').stop();
  assert.deepEqual(none, []);
  assert.equal(unlimited.usageRatio(), null);
});

test('during a real analysis under a small limit, memory.pressure WARN records name the request, stage, file, RSS and percent', async () => {
  const service = await startTestService({ memoryLimitOverrideBytes: 150 * 1024 * 1024, memoryThresholds: [70, 85, 95] });
  try {
    const res = await upload(service, songWav({ seconds: 10 }).wav, 'pressure.wav');
    assert.equal(res.status, 200);
    const pressure = service.records().filter((r) => r.event === 'memory.pressure' && r.request_id === res.json.request_id);
    assert.deepEqual(pressure.map((r) => r.threshold), [70, 85, 95]);
    for (const r of pressure) {
      assert.equal(r.level, 'warn');
      assert.equal(r.file_name, 'pressure.wav');
      assert.equal(typeof r.stage, 'string');
      assert.ok(Number(r.percent) >= Number(r.threshold));
      assert.equal(r.limit_mb, 150);
      assert.ok(Number(r.rss_mb) > 0);
    }
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /guitar_backend_memory_pressure_events_total\{threshold="95"\} 1/);
    assert.match(metrics, /guitar_backend_memory_limit_bytes 157286400/);
    assert.match(metrics, /guitar_backend_memory_usage_ratio \d/);
    const health = (await service.app.inject({ method: 'GET', url: '/api/health' })).json();
    assert.equal(health.memory.limit_mb, 150);
    assert.ok(health.memory.usage_ratio > 0.5);
  } finally {
    await service.shutdown('test done');
  }
});

test('the image and `pnpm start` run node with the same flags (NODE_FLAGS) and malloc setting (MALLOC_ENV)', () => {
  const repo = fileURLToPath(new URL('../../../../', import.meta.url));
  const dockerfile = fs.readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const scripts = (file: string): Record<string, string> => (JSON.parse(fs.readFileSync(path.join(repo, file), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const start = scripts('package.json').start ?? '';
  const appStart = scripts('packages/app/package.json').start ?? '';
  for (const [name, value] of Object.entries(MALLOC_ENV)) {
    assert.match(runtime, new RegExp(`^ENV ${name}=${value}$`, 'm'), `the runtime stage sets ${name}=${value}`);
    assert.match(start, new RegExp(`\\b${name}=${value} node `), `pnpm start sets ${name}=${value}`);
  }
  // The image's command, exactly: node, the flags, the service.
  const cmd = [...runtime.matchAll(/^CMD (\[.*\])$/gm)].at(-1)?.[1];
  assert.deepEqual(JSON.parse(cmd ?? '[]'), ['node', ...NODE_FLAGS, 'dist/src/main.js'], 'the image runs node with NODE_FLAGS');
  // pnpm start (root, and the app package's own): node, the same flags, the service.
  assert.match(start, new RegExp(`(^|&& |\\s)(\\w+=\\S+ )*node ${NODE_FLAGS.join(' ')} packages/app/dist/src/main\\.js$`), `root start: ${start}`);
  assert.equal(appStart, `node ${NODE_FLAGS.join(' ')} dist/src/main.js`);
  // And nothing else passes node flags another way (NODE_OPTIONS would reach every node the image runs).
  assert.doesNotMatch(runtime, /NODE_OPTIONS/);
  assert.doesNotMatch(start, /NODE_OPTIONS/);
});

test('the idle collection runs once, a delay after the last piece of work ends, never while work runs', async () => {
  const collected: number[] = [];
  const idle = new IdleCollector({ collect: () => collected.push(performance.now()), delayMs: 40, readRss: () => 1 });
  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  // Nothing done yet: nothing to collect.
  assert.equal(idle.scheduled, false);
  const request = idle.begin();
  const job = idle.begin();
  assert.equal(idle.busy, 2);
  request();
  request(); // ending twice counts once
  assert.equal(idle.busy, 1);
  assert.equal(idle.scheduled, false, 'a job still runs');
  await wait(80);
  assert.deepEqual(collected, [], 'no collection while a job runs');
  const ended = performance.now();
  job();
  assert.equal(idle.scheduled, true);
  // New work within the delay puts the collection off until it ends too.
  await wait(10);
  const next = idle.begin();
  assert.equal(idle.scheduled, false);
  await wait(80);
  assert.deepEqual(collected, [], 'work began before the delay passed');
  const lastEnded = performance.now();
  next();
  await wait(120);
  assert.equal(collected.length, 1, 'one collection');
  assert.ok((collected[0] ?? 0) - lastEnded >= 35, 'after the delay');
  assert.ok((collected[0] ?? 0) > ended);
  // Idle again, no work since: no second collection.
  await wait(100);
  assert.equal(collected.length, 1);
  // Without gc() (node without --expose-gc) nothing is scheduled.
  const off = new IdleCollector({ collect: null, delayMs: 1 });
  off.begin()();
  assert.equal(off.enabled, false);
  assert.equal(off.scheduled, false);
});
