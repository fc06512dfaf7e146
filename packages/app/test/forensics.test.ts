import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { defaultLogSettings, listLogFiles } from '@guitar-backend/logger';
import { readPreviousRun } from '../src/forensics/previous-run.js';
import { buildCrashReport } from '../src/forensics/crash-report.js';
import { songWav } from '../src/index.js';
import { spawn, spawnSync } from 'node:child_process';
import { mainScript, readLogRecords, startServiceProcess, tempDir, whenListening, type ServiceProcess } from './helpers.js';

const settings = (dir: string) => ({ dir, file: defaultLogSettings.file });
const line = (o: Record<string, unknown>): string => `${JSON.stringify({ time: '2026-11-21T18:00:00.000Z', level: 'info', service: 'guitar-backend', message: '', ...o })}\n`;

test('the reader follows the previous run across rotated files, newest first, past a truncated last line and foreign lines', () => {
  const dir = tempDir();
  const old = 'run-old';
  const prev = 'run-prev';
  fs.writeFileSync(
    path.join(dir, 'app.1.log'),
    line({ instance_id: old, event: 'service.start' }) + line({ instance_id: old, event: 'service.stop' }) + line({ instance_id: prev, event: 'service.start', oom_kill_count: 2 }) + 'plain text from somewhere else\n' + line({ instance_id: prev, event: 'analysis.start', request_id: 'r1', file_name: 'a.wav', file_size_mb: 4 }),
  );
  fs.writeFileSync(
    path.join(dir, 'app.2.log'),
    line({ instance_id: prev, event: 'analysis.end', request_id: 'r1' }) +
      line({ instance_id: prev, event: 'analysis.start', request_id: 'r2', file_name: 'b.wav', file_size_mb: 9.5 }) +
      line({ instance_id: prev, event: 'analysis.decoded', request_id: 'r2', audio_seconds: 600 }) +
      line({ instance_id: prev, event: 'memory.pressure', request_id: 'r2', percent: 88, threshold: 85, stage: 'rhythm', rss_mb: 900 }) +
      line({ instance_id: prev, event: 'analysis.stage', request_id: 'r2', stage: 'rhythm', phase: 'start' }) +
      '{"not":"ours"}\n' +
      line({ instance_id: 'current', event: 'service.start' }) +
      '{"instance_id":"run-prev","event":"analysis.sta', // cut by the kill
  );
  const previous = readPreviousRun(settings(dir), { currentInstanceId: 'current' });
  assert.equal(previous?.instanceId, prev);
  assert.equal(previous?.startRecord?.oom_kill_count, 2);
  assert.equal(previous?.partial, false);
  const report = buildCrashReport(previous, 3);
  assert.ok(report);
  assert.deepEqual(report.analyses_in_flight.map((a) => [a.request_id, a.file_name, a.file_size_mb, a.audio_seconds, a.last_stage]), [['r2', 'b.wav', 9.5, 600, 'rhythm']]);
  assert.equal(report.highest_memory_pressure?.percent, 88);
  assert.equal(report.suspected_cause, 'oom');
  assert.match(report.cause_evidence, /1 OOM kill\(s\) since the previous run started \(memory.events oom_kill 2 → 3\)/);
  assert.equal(buildCrashReport(previous, 2)?.suspected_cause, 'unknown');
});

test('stages_running holds exactly the stages started and not ended: decoding ends with analysis.decoded, parallel and repeated stages are counted', () => {
  const dir = tempDir();
  const stage = (request_id: string, name: string, phase: 'start' | 'end') => line({ instance_id: 'p', event: 'analysis.stage', request_id, stage: name, phase });
  const decoded = (request_id: string) => line({ instance_id: 'p', event: 'analysis.decoded', request_id, stage: 'decode', audio_seconds: 90 });
  const begin = (request_id: string) => line({ instance_id: 'p', event: 'analysis.start', request_id, file_name: `${request_id}.wav` });
  fs.writeFileSync(
    path.join(dir, 'app.1.log'),
    line({ instance_id: 'p', event: 'service.start' }) +
      // decoding long over, single thread, in resample
      begin('a') + stage('a', 'decode', 'start') + decoded('a') + stage('a', 'resample', 'start') +
      // still decoding
      begin('b') + stage('b', 'decode', 'start') +
      // split: rhythm on the helper beside notes on the worker; onsets ended
      begin('c') + stage('c', 'decode', 'start') + decoded('c') + stage('c', 'resample', 'start') + stage('c', 'resample', 'end') +
      stage('c', 'rhythm', 'start') + stage('c', 'loudness', 'start') + stage('c', 'loudness', 'end') + stage('c', 'onsets', 'start') +
      stage('c', 'onsets', 'end') + stage('c', 'notes', 'start') +
      // between stages: nothing running
      begin('d') + stage('d', 'decode', 'start') + decoded('d') + stage('d', 'resample', 'start') + stage('d', 'resample', 'end') +
      // a stage started twice and ended once is still running
      begin('e') + stage('e', 'decode', 'start') + decoded('e') + stage('e', 'key', 'start') + stage('e', 'key', 'start') + stage('e', 'key', 'end'),
  );
  const report = buildCrashReport(readPreviousRun(settings(dir), { currentInstanceId: 'now' }), null);
  const running = Object.fromEntries((report?.analyses_in_flight ?? []).map((a) => [a.request_id, [a.stages_running, a.last_stage]]));
  assert.deepEqual(running, {
    a: [['resample'], 'resample'],
    b: [['decode'], 'decode'],
    c: [['rhythm', 'notes'], 'notes'],
    d: [[], 'resample'],
    e: [['key'], 'key'],
  });
});

test('a previous run that stopped cleanly gives no report; no previous run gives none', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'app.1.log'), line({ instance_id: 'p', event: 'service.start' }) + line({ instance_id: 'p', event: 'analysis.start', request_id: 'x' }) + line({ instance_id: 'p', event: 'service.stop' }));
  assert.equal(buildCrashReport(readPreviousRun(settings(dir), { currentInstanceId: 'now' }), null), null);
  assert.equal(readPreviousRun(settings(tempDir()), { currentInstanceId: 'now' }), null);
});

test('a last pressure reading of 95 % or more means oom even without a cgroup count', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'app.1.log'), line({ instance_id: 'p', event: 'service.start' }) + line({ instance_id: 'p', event: 'memory.pressure', percent: 97.2, threshold: 95, stage: 'onsets' }));
  const report = buildCrashReport(readPreviousRun(settings(dir), { currentInstanceId: 'now' }), null);
  assert.equal(report?.suspected_cause, 'oom');
  assert.match(report?.cause_evidence ?? '', /97.2 % of the limit, during onsets/);
});

test('the read is bounded: a huge log is read from its end only, never loaded whole', () => {
  const dir = tempDir();
  const filler = line({ instance_id: 'p', event: 'analysis.stage', request_id: 'r', stage: 'notes', phase: 'end', payload: 'x'.repeat(900) });
  const fd = fs.openSync(path.join(dir, 'app.1.log'), 'w');
  fs.writeSync(fd, line({ instance_id: 'p', event: 'service.start' }) + line({ instance_id: 'p', event: 'analysis.start', request_id: 'r', file_name: 'huge.wav' }));
  const block = filler.repeat(1000);
  for (let i = 0; i < 60; i++) fs.writeSync(fd, block); // ~60 MB
  fs.closeSync(fd);
  const previous = readPreviousRun(settings(dir), { currentInstanceId: 'now', maxBytes: 2 * 1024 * 1024 });
  assert.equal(previous?.partial, true);
  assert.ok((previous?.records.length ?? 0) <= 2 * 1024 * 1024 / 900 + 1, `${previous?.records.length} records`);
  const report = buildCrashReport(previous, null);
  assert.equal(report?.partial, true);
  assert.deepEqual(report?.analyses_in_flight, [], 'its analysis.start lies beyond the budget');
});

function start(logDir: string, env: Record<string, string> = {}) {
  return startServiceProcess({ LOG_DIR: logDir, ...env });
}

const records = (logDir: string) => readLogRecords(logDir, { skipCutLines: true });

test('SIGKILL mid-analysis, then a start on the same log directory: one accurate crash.detected, a metric, and /api/health shows it; a clean stop then gives none', async () => {
  const logDir = tempDir('crash-');
  const first = start(logDir, { MEMORY_LIMIT_MB: '200', MEMORY_GUARD: 'off' });
  const url = await first.url;
  const form = new FormData();
  form.append('file', new Blob([songWav({ seconds: 120 }).wav]), 'evening take.wav');
  const pending = fetch(`${url}/api/analyze`, { method: 'POST', body: form }).catch(() => null);
  for (let i = 0; i < 600 && !records(logDir).some((r) => r.event === 'analysis.stage' && r.stage === 'key'); i++) await new Promise((r) => setTimeout(r, 20));
  first.child.kill('SIGKILL'); // as the kernel's OOM killer does
  await first.exited;
  await pending;
  const killedRun = records(logDir).find((r) => r.event === 'service.start')?.instance_id;
  const uploaded = records(logDir).find((r) => r.event === 'analysis.start');
  const killedRecords = records(logDir);
  assert.ok(killedRecords.some((r) => r.event === 'analysis.decoded'), 'killed after decoding ended');

  const second = start(logDir);
  try {
    const url2 = await second.url;
    const crashes = records(logDir).filter((r) => r.event === 'crash.detected');
    assert.equal(crashes.length, 1);
    const crash = crashes[0] ?? {};
    assert.equal(crash.level, 'error');
    assert.equal(crash.previous_instance_id, killedRun);
    assert.equal(crash.analyses_in_flight.length, 1);
    assert.equal(crash.analyses_in_flight[0].request_id, uploaded?.request_id);
    assert.equal(crash.analyses_in_flight[0].file_name, 'evening take.wav');
    assert.equal(crash.analyses_in_flight[0].audio_seconds, 120);
    // Two minutes of audio run on two threads: the key (helper) beside the worker's stages.
    const inFlight = crash.analyses_in_flight[0];
    assert.ok(inFlight.stages_running.includes('key'), JSON.stringify(inFlight));
    assert.ok(!inFlight.stages_running.includes('decode'), `decoding had ended: ${JSON.stringify(inFlight)}`);
    // Exactly the stages the killed run's records show started and not ended.
    const open = new Map<string, number>();
    for (const r of killedRecords.filter((r) => r.request_id === uploaded?.request_id)) {
      const name = r.event === 'analysis.decoded' ? 'decode' : r.event === 'analysis.stage' ? String(r.stage) : null;
      const phase = r.event === 'analysis.decoded' ? 'end' : r.phase;
      if (name) open.set(name, (open.get(name) ?? 0) + (phase === 'start' ? 1 : -1));
    }
    assert.deepEqual([...inFlight.stages_running].sort(), [...open].filter(([, n]) => n > 0).map(([s]) => s).sort());
    assert.equal(crash.suspected_cause, 'oom', crash.cause_evidence);
    assert.ok(crash.highest_memory_pressure.percent >= 95);
    const metrics = await (await fetch(`${url2}/metrics`)).text();
    assert.match(metrics, /guitar_backend_previous_crash_total\{cause="oom"\} 1/);
    const health = (await (await fetch(`${url2}/api/health`)).json()) as { previous_crash: { previous_instance_id: string } | null };
    assert.equal(health.previous_crash?.previous_instance_id, killedRun);
  } finally {
    second.child.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0);

  const third = start(logDir);
  try {
    const url3 = await third.url;
    assert.equal(records(logDir).filter((r) => r.event === 'crash.detected').length, 1, 'the clean stop raised no second report');
    assert.equal(((await (await fetch(`${url3}/api/health`)).json()) as { previous_crash: unknown }).previous_crash, null);
  } finally {
    third.child.kill('SIGTERM');
    await third.exited;
  }
});

test('two instances on one log directory: each writes its own files, the second reports no crash for the running first, and the first one killed is reported by the next start', async () => {
  const logDir = tempDir('shared-');
  const first = start(logDir);
  const second = start(logDir);
  let third: ReturnType<typeof start> | null = null;
  try {
    await Promise.all([first.url, second.url]);
    const starts = records(logDir).filter((r) => r.event === 'service.start');
    assert.equal(starts.length, 2);
    assert.notEqual(starts[0]?.log_owner, starts[1]?.log_owner, 'each instance owns its files');
    assert.deepEqual(records(logDir).filter((r) => r.event === 'crash.detected'), [], 'a running instance is not a crash');
    for (const s of starts) {
      const own = listLogFiles(settings(logDir), { owner: String(s.log_owner) });
      assert.ok(own.length >= 1);
      const ids = new Set(own.flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter(Boolean)).map((l) => (JSON.parse(l) as { instance_id?: string }).instance_id));
      assert.deepEqual([...ids], [s.instance_id], 'an owner’s files hold its own records only');
    }
    const firstStart = starts.find((s) => s.pid === first.child.pid);
    first.child.kill('SIGKILL');
    await first.exited;

    third = start(logDir);
    await third.url;
    const crashes = records(logDir).filter((r) => r.event === 'crash.detected');
    assert.equal(crashes.length, 1, JSON.stringify(crashes));
    assert.equal(crashes[0]?.previous_instance_id, firstStart?.instance_id);
    const thirdStart = records(logDir).find((r) => r.event === 'service.start' && r.pid === third?.child.pid);
    assert.equal(thirdStart?.log_owner, firstStart?.log_owner, 'the next start took the killed instance’s slot back');
  } finally {
    first.child.kill('SIGKILL');
    second.child.kill('SIGTERM');
    third?.child.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0);
  assert.equal(await third?.exited, 0);

  const fourth = start(logDir);
  try {
    await fourth.url;
    assert.equal(records(logDir).filter((r) => r.event === 'crash.detected').length, 1, 'clean stops raise no report');
  } finally {
    fourth.child.kill('SIGTERM');
    await fourth.exited;
  }
});

/** Containers simulated with namespaces: each instance its own host name and pid namespace (so both run as pid 1). */
const namespaces = spawnSync('unshare', ['--uts', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', 'true']).status === 0;

/**
 * The service as pid 1 of its own pid namespace with its own host name. `child` is unshare:
 * SIGKILL to it kills the service too (--kill-child), like a container's kill; unshare does not
 * pass SIGTERM on, so `stop()` sends it to the service itself.
 */
function startInContainer(hostname: string, logDir: string): ServiceProcess & { stop(): void } {
  const child = spawn(
    'unshare',
    ['--uts', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', 'sh', '-c', `hostname ${hostname} && exec "$0" "$1"`, process.execPath, mainScript],
    { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_STDOUT: 'off', ANALYSIS_WORKERS: '1', LOG_DIR: logDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { exited, url } = whenListening(child);
  const stop = (): void => {
    const service = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0];
    if (service) process.kill(Number(service), 'SIGTERM');
  };
  return { child, exited, url, stop };
}

/**
 * Two containers on one volume, both pid 1: no false crash; the first killed, then started again
 * (same host name, a new pid namespace), takes its files back and reports its crash.
 */
async function twoContainers(hostA: string, hostB: string): Promise<void> {
  const logDir = tempDir('volume-');
  const a = startInContainer(hostA, logDir);
  await a.url;
  const b = startInContainer(hostB, logDir);
  let restarted: ReturnType<typeof startInContainer> | null = null;
  try {
    await b.url;
    // Files of different owners may carry the same sequence number: order by time.
    const starts = records(logDir)
      .filter((r) => r.event === 'service.start')
      .sort((x, y) => String(x.time).localeCompare(String(y.time)));
    assert.deepEqual(starts.map((r) => [r.hostname, r.pid]), [[hostA, 1], [hostB, 1]]);
    assert.notEqual(starts[0]?.log_owner, starts[1]?.log_owner);
    assert.deepEqual(records(logDir).filter((r) => r.event === 'crash.detected'), []);
    const killed = starts[0];
    a.child.kill('SIGKILL');
    await a.exited;

    restarted = startInContainer(hostA, logDir);
    await restarted.url;
    const crashes = records(logDir).filter((r) => r.event === 'crash.detected');
    assert.equal(crashes.length, 1, JSON.stringify(crashes));
    assert.equal(crashes[0]?.previous_instance_id, killed?.instance_id);
    const latest = records(logDir)
      .filter((r) => r.event === 'service.start')
      .sort((x, y) => String(x.time).localeCompare(String(y.time)))
      .at(-1);
    assert.equal(latest?.log_owner, killed?.log_owner, 'the restarted container took its files back');
  } finally {
    a.child.kill('SIGKILL');
    b.stop();
    restarted?.stop();
  }
  const stopped = await Promise.race([Promise.all([b.exited, restarted?.exited]), new Promise((r) => setTimeout(r, 30_000, 'timeout'))]);
  if (stopped === 'timeout') {
    b.child.kill('SIGKILL');
    restarted?.child.kill('SIGKILL');
    assert.fail('the services did not stop on SIGTERM');
  }
  assert.equal(records(logDir).filter((r) => r.event === 'service.stop').length, 2, 'both stopped cleanly');
}

const noNamespaces = namespaces ? false : 'unshare cannot make uts and pid namespaces here (needs root or user namespaces)';

test('compose --scale with a host name each (both pid 1): each owns its files; a killed one restarted reports its own crash', { skip: noNamespaces }, () =>
  twoContainers('ctr-a', 'ctr-b'),
);

test('replicas sharing one host name (compose network_mode service:pod gives them the pod’s), both pid 1: told apart by the heartbeat', { skip: noNamespaces }, () =>
  twoContainers('pod-1', 'pod-1'),
);
