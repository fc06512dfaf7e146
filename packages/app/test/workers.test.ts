import { test } from 'node:test';
import assert from 'node:assert/strict';
import { songWav } from '../src/index.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';
import { multipart, readLogRecords, startServiceProcess, startTestService, tempDir, upload, type TestService } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const health = async (s: TestService) => (await s.app.inject({ method: 'GET', url: '/api/health' })).json();

test('health answers while a long analysis runs (the analysis is not on the main thread)', async () => {
  const service = await startTestService();
  try {
    const long = upload(service, songWav({ seconds: 180 }).wav, 'long.wav');
    await waitFor(async () => (await health(service)).analyses_in_flight === 1, 'the analysis to start');
    const latencies: number[] = [];
    let duringAnalysis = 0;
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const h = await health(service);
      latencies.push(performance.now() - t);
      if (h.analyses_in_flight === 1) duringAnalysis++;
      await sleep(30);
    }
    const res = await long;
    assert.equal(res.status, 200);
    assert.ok(duringAnalysis >= 25, `${duringAnalysis} of 30 health answers came during the analysis`);
    // A main thread blocked by the analysis would hold these for seconds; the benchmark measures the real p99.
    assert.ok(Math.max(...latencies) < 1000, `slowest health answer ${Math.max(...latencies).toFixed(0)} ms`);
  } finally {
    await service.shutdown('test done');
  }
});

test('beyond the queue: 503 with Retry-After, logged and counted; the queued work still completes', async () => {
  const service = await startTestService({ workers: 1, queueMax: 1, retryAfterSeconds: 7 });
  try {
    const first = upload(service, songWav({ seconds: 60 }).wav, 'first.wav');
    await waitFor(async () => (await health(service)).analyses_in_flight === 1, 'the first analysis');
    const second = upload(service, songWav({ seconds: 5 }).wav, 'second.wav');
    await waitFor(async () => (await health(service)).queue_length === 1, 'the second to queue');
    const third = await upload(service, songWav({ seconds: 5 }).wav, 'third.wav');
    assert.equal(third.status, 503);
    assert.equal(third.json.error, 'queue_full');
    assert.equal(third.headers['retry-after'], '7');
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.ok(service.records().some((r) => r.event === 'request.rejected' && r.reason === 'queue_full'));
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /guitar_backend_rejected_requests_total\{reason="queue_full"\} 1/);
  } finally {
    await service.shutdown('test done');
  }
});

test('a worker whose WebAssembly heap grew is retired after its job, and the process gives the memory back', { timeout: 120_000 }, async () => {
  // The service as its own process, run as the image runs it (NODE_FLAGS, MALLOC_ENV): this test
  // process holds the generated take and its multipart body, which are not the service's memory.
  // On one thread, the loudness's essentia copy of the signal grows the worker's WebAssembly heap.
  const logDir = tempDir('app-retire-');
  const svc = startServiceProcess({ ...MALLOC_ENV, LOG_DIR: logDir, LOG_LEVEL: 'info', WORKER_RETIRE_HEAP_MB: '48', ANALYSIS_SPLIT: 'off' }, undefined, NODE_FLAGS);
  try {
    const base = await svc.url;
    const rssMb = async (): Promise<number> => ((await (await fetch(`${base}/api/health`)).json()) as { memory: { rss_mb: number } }).memory.rss_mb;
    const post = async (data: Buffer, name: string) => {
      const body = multipart([{ field: 'file', filename: name, contentType: 'audio/wav', data }]);
      const res = await fetch(`${base}/api/analyze`, { method: 'POST', body: body.payload, headers: body.headers });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    const baseline = await rssMb();
    const res = await post(songWav({ seconds: 300 }).wav, 'five-minutes.wav');
    assert.equal(res.status, 200);
    const peak = res.json.processing.peak_rss_mb as number;
    assert.ok(res.json.processing.wasm_heap_mb > 48, `heap ${res.json.processing.wasm_heap_mb} MB`);
    assert.ok(peak > baseline + 100, `the analysis's spike: ${baseline} MB before, ${peak} MB peak`);
    assert.ok(readLogRecords(logDir).some((r) => r.event === 'analysis.end' && r.worker_retired === true), 'the worker is retired');
    // The retired worker's heap goes at once; what the main thread left goes at the idle collection.
    await waitFor(async () => (await rssMb()) < baseline + 0.5 * (peak - baseline), `RSS to fall from the ${peak} MB peak towards ${baseline} MB`, 30_000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /guitar_backend_worker_retirements_total 1/);
    // A fresh worker takes the next job.
    assert.equal((await post(songWav({ seconds: 5 }).wav, 'next.wav')).status, 200);
  } finally {
    svc.child.kill('SIGTERM');
    await svc.exited;
  }
});

test('a worker that dies fails only its request, with a clear error, and the pool carries on', async () => {
  const service = await startTestService();
  try {
    const doomed = upload(service, songWav({ seconds: 120 }).wav, 'doomed.wav');
    await waitFor(async () => service.records().some((r) => r.event === 'analysis.stage' && r.stage === 'onsets'), 'the analysis to reach onsets');
    const [worker] = service.pool.threads;
    assert.ok(worker);
    await worker.terminate(); // as abrupt as a crash
    const res = await doomed;
    assert.equal(res.status, 507);
    assert.equal(res.json.error, 'analysis_out_of_memory');
    assert.match(res.json.message, /worker died/);
    const failure = service.records().find((r) => r.event === 'analysis.failed' && r.reason === 'worker_died');
    assert.ok(['onsets', 'rhythm', 'notes'].includes(String(failure?.stage)), String(failure?.stage));
    assert.equal(failure?.level, 'error');
    assert.equal((await upload(service, songWav({ seconds: 5 }).wav)).status, 200);
    assert.equal((await health(service)).status, 'ok');
  } finally {
    await service.shutdown('test done');
  }
});
