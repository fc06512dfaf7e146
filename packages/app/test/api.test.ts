import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { songWav } from '../src/index.js';
import { analysisResponseSchema, healthResponseSchema } from '../src/routes/schemas.js';
import { startTestService, upload, type TestService } from './helpers.js';

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(async () => {
  await service.shutdown('test done');
});

const ajv = new Ajv({ allowUnionTypes: true, strict: false });

test('POST /api/analyze answers the documented shape for a WAV upload', async () => {
  const { wav } = songWav({ seconds: 12, style: 'lick' });
  const res = await upload(service, wav, 'my take.wav');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const validate = ajv.compile(analysisResponseSchema);
  assert.ok(validate(res.json), ajv.errorsText(validate.errors));
  const r = res.json;
  assert.equal(r.file.name, 'my take.wav');
  assert.equal(r.file.size_mb, Number((wav.length / 1024 / 1024).toFixed(2)));
  assert.equal(r.audio.format, 'wav');
  assert.equal(r.audio.duration_seconds, 12);
  assert.ok(r.notes.length > 10 && r.onsets.times.length > 10 && r.tempo.beats.length > 10);
  assert.equal(r.loudness.rms_db.length, 24);
  for (const stage of ['rhythm', 'onsets', 'key', 'notes', 'loudness', 'chords']) assert.equal(typeof r.processing.algorithms_ms[stage], 'number', stage);
  assert.ok(r.processing.peak_rss_mb > 50);
  assert.ok(r.processing.total_ms >= r.processing.worker_ms);
});

test('every analysis writes analysis.start before decoding, a record per stage, and analysis.end, under one request id', async () => {
  const { wav } = songWav({ seconds: 8 });
  const res = await upload(service, wav, 'stages.wav');
  assert.equal(res.status, 200);
  const mine = service.records().filter((r) => r.request_id === res.json.request_id);
  const events = mine.map((r) => `${String(r.event)}${r.phase ? `:${String(r.stage)}:${String(r.phase)}` : ''}`).filter((e) => e !== 'undefined');
  assert.equal(events[0], 'analysis.start');
  assert.ok(events.indexOf('analysis.start') < events.indexOf('analysis.stage:decode:start'));
  assert.ok(events.indexOf('analysis.stage:decode:start') < events.indexOf('analysis.decoded'));
  for (const stage of ['rhythm', 'onsets', 'key', 'notes', 'loudness', 'chords']) {
    assert.ok(events.includes(`analysis.stage:${stage}:end`), `${stage} missing in ${events.join(', ')}`);
  }
  assert.equal(events.at(-1), 'analysis.end');
  const start = mine.find((r) => r.event === 'analysis.start');
  assert.equal(start?.file_name, 'stages.wav');
  assert.equal(start?.content_type, 'audio/wav');
  assert.equal(typeof start?.file_size_mb, 'number');
  const decoded = mine.find((r) => r.event === 'analysis.decoded');
  assert.deepEqual([decoded?.audio_seconds, decoded?.sample_rate, decoded?.channels], [8, 44100, 1]);
  const rhythm = mine.find((r) => r.event === 'analysis.stage' && r.stage === 'rhythm' && r.phase === 'end');
  assert.equal(typeof rhythm?.duration_ms, 'number');
  assert.equal(typeof rhythm?.rss_mb, 'number');
  const end = mine.find((r) => r.event === 'analysis.end');
  assert.ok(Number(end?.peak_rss_mb) > 0);
  // Fastify's own request logs are in the same file with the same id.
  assert.ok(mine.some((r) => r.message === 'incoming request'));
  assert.ok(mine.some((r) => r.message === 'request completed'));
});

test('GET /api/health answers state; /api/health/ready answers 200 while serving', async () => {
  const res = await service.app.inject({ method: 'GET', url: '/api/health' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.ok(ajv.validate(healthResponseSchema, body));
  assert.equal(body.status, 'ok');
  assert.equal(body.analyses_in_flight, 0);
  assert.equal(body.queue_length, 0);
  assert.equal(body.workers, 1);
  assert.equal(typeof body.uptime_seconds, 'number');
  assert.equal((await service.app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode, 200);
});

test('GET /metrics exposes the service metrics, and they move with traffic', async () => {
  const read = async (): Promise<string> => (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series));
    return line ? Number(line.slice(series.length).trim()) : NaN;
  };
  const before = await read();
  for (const name of [
    'process_resident_memory_bytes',
    'http_request_duration_seconds_bucket',
    'guitar_backend_analysis_duration_seconds',
    'guitar_backend_audio_seconds_analyzed_total',
    'guitar_backend_analysis_peak_rss_bytes',
    'guitar_backend_analyses_in_flight',
    'guitar_backend_analyses_queued',
    'guitar_backend_rejected_requests_total',
    'guitar_backend_log_write_failures_total',
    'guitar_backend_memory_limit_bytes',
  ]) {
    assert.ok(before.includes(name), `${name} missing`);
  }
  const audioBefore = value(before, 'guitar_backend_audio_seconds_analyzed_total');
  await upload(service, songWav({ seconds: 5 }).wav);
  await service.app.inject({ method: 'POST', url: '/api/analyze', payload: {} });
  const after = await read();
  assert.equal(value(after, 'guitar_backend_audio_seconds_analyzed_total') - audioBefore, 5);
  assert.ok(value(after, 'guitar_backend_rejected_requests_total{reason="not_multipart"}') >= 1);
  assert.ok(value(after, 'http_request_duration_seconds_count{method="POST",route="/api/analyze",status_code="200"}') >= 1);
  assert.ok(value(after, 'guitar_backend_analysis_peak_rss_bytes_count') >= 1);
});

test('the OpenAPI document at /docs/json describes the upload form and the answers', async () => {
  const res = await service.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  const post = doc.paths['/api/analyze'].post;
  assert.equal(post.requestBody.content['multipart/form-data'].schema.properties.file.format, 'binary');
  assert.ok(post.responses['200'] && post.responses['413'] && post.responses['415'] && post.responses['422'] && post.responses['503']);
  assert.ok(doc.paths['/api/health'].get);
  assert.equal((await service.app.inject({ method: 'GET', url: '/docs' })).statusCode < 400, true);
});

test('unknown routes answer 404 JSON', async () => {
  const res = await service.app.inject({ method: 'GET', url: '/nope?x=1' });
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.json(), { error: 'not_found', message: 'no route GET /nope' });
});
