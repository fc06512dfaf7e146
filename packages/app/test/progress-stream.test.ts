import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import { ERROR_STATUS, songWav } from '../src/index.js';
import { analysisResponseSchema } from '../src/routes/schemas.js';
import { startTestService, type TestService } from './helpers.js';

let service: TestService;
let origin = '';
before(async () => {
  service = await startTestService({ workers: 1, queueMax: 0, retryAfterSeconds: 4 });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await service.shutdown('test done');
});

interface Received {
  event: string;
  data: any;
  /** Which network read delivered it. */
  read: number;
}

/** Uploads over real HTTP asking for events; every event with the read it arrived in. */
async function streamUpload(bytes: Buffer, name: string, type = 'audio/wav'): Promise<{ status: number; contentType: string; events: Received[] }> {
  const form = new FormData();
  form.append('tempo_hint', '120');
  form.append('file', new Blob([bytes], { type }), name);
  const res = await fetch(`${origin}/api/analyze`, { method: 'POST', body: form, headers: { accept: 'text/event-stream' } });
  const contentType = res.headers.get('content-type') ?? '';
  const events: Received[] = [];
  if (!contentType.startsWith('text/event-stream')) return { status: res.status, contentType, events: [{ event: 'body', data: await res.json(), read: 0 }] };
  const decoder = new TextDecoder();
  let buffer = '';
  let read = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    read++;
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data), read });
    }
  }
  assert.equal(buffer, '', 'the stream ends on a complete event');
  return { status: res.status, contentType, events };
}

const ajv = new Ajv({ allowUnionTypes: true, strict: false });

for (const seconds of [12, 65]) {
  test(`a ${seconds} s take: accepted, then progress per stage as it happens, then the same answer as the JSON request`, async () => {
    const { wav } = songWav({ seconds, style: 'lick' });
    const { status, contentType, events } = await streamUpload(wav, 'take.wav');
    assert.equal(status, 200);
    assert.match(contentType, /^text\/event-stream/);
    const names = events.map((e) => e.event);
    assert.equal(names[0], 'accepted');
    assert.equal(names.at(-1), 'result');
    assert.ok(names.slice(1, -1).every((n) => n === 'progress'), names.join(','));

    const accepted = events[0]?.data;
    assert.deepEqual(accepted.stages, ['decode', 'resample', 'loudness', 'onsets', 'rhythm', 'key', 'tuning', 'notes', 'meter', 'chords']);
    assert.equal(accepted.file.name, 'take.wav');
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data);
    assert.deepEqual(progress[0], { stage: 'decode', phase: 'start', completed: 0, total: 10, percent: 0 });
    for (const stage of accepted.stages) {
      const start = progress.findIndex((p) => p.stage === stage && p.phase === 'start');
      const end = progress.findIndex((p) => p.stage === stage && p.phase === 'end');
      assert.ok(start >= 0 && end > start, `${stage}: start ${start}, end ${end}`);
      assert.equal(typeof progress[end].ms, 'number');
    }
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].completed >= progress[i - 1].completed, 'completed never goes back');
    assert.deepEqual([progress.at(-1)?.completed, progress.at(-1)?.percent], [10, 100]);
    assert.equal(progress.find((p) => p.stage === 'decode' && p.phase === 'end')?.audio_seconds, seconds);

    // Streamed, not buffered: progress arrived in earlier reads than the result.
    const resultRead = events.at(-1)?.read ?? 0;
    assert.ok(new Set(events.filter((e) => e.read < resultRead).map((e) => e.read)).size >= 2, 'progress came in its own reads before the result');

    const result = events.at(-1)?.data;
    const validate = ajv.compile(analysisResponseSchema);
    assert.ok(validate(result), ajv.errorsText(validate.errors));
    assert.equal(result.request_id, accepted.request_id);
    assert.equal(result.audio.duration_seconds, seconds);
    assert.ok(Math.abs(result.tempo.bpm - 120) < 2);
    const end = service.records().find((r) => r.event === 'analysis.end' && r.request_id === result.request_id);
    assert.ok(end, 'analysis.end logged as for a JSON request');
  });
}

test('a refusal found after the upload was read is an error event with the status the JSON request would answer, logged and counted', async () => {
  // A RIFF/WAVE header with no audio after it: only decoding it finds that out.
  const hollow = Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVE'), Buffer.alloc(100, 7)]);
  const { status, events } = await streamUpload(hollow, 'hollow.wav');
  assert.equal(status, 200);
  const last = events.at(-1);
  assert.equal(last?.event, 'error');
  assert.equal(last?.data.error, 'corrupt_audio');
  assert.equal(last?.data.status, ERROR_STATUS.corrupt_audio);
  assert.match(last?.data.message, /no audio could be decoded/);
  const requestId = events[0]?.data.request_id;
  const rejected = service.records().find((r) => r.event === 'request.rejected' && r.request_id === requestId);
  assert.equal(rejected?.reason, 'corrupt_audio');
  const metrics = await (await fetch(`${origin}/metrics`)).text();
  assert.match(metrics, /guitar_backend_rejected_requests_total\{reason="corrupt_audio"\} [1-9]/);
});

test('refusals before the upload is read keep their status and JSON body, even when events were asked for', async () => {
  const res = await fetch(`${origin}/api/analyze`, { method: 'POST', body: '{}', headers: { accept: 'text/event-stream', 'content-type': 'application/json' } });
  assert.equal(res.status, 415);
  assert.deepEqual(Object.keys((await res.json()) as object), ['error', 'message']);
  // A file that is not audio is refused from its first bytes, before the stream opens.
  const notAudio = await streamUpload(Buffer.from('Autumn Leaves\nBlue Bossa\n'), 'setlist.txt', 'text/plain');
  assert.equal(notAudio.status, 415);
  assert.equal(notAudio.events[0]?.data.error, 'unsupported_format');

  // The only worker busy and no queue: 503 with Retry-After, before any byte of the second upload is read.
  const busy = streamUpload(songWav({ seconds: 30, style: 'lick' }).wav, 'first.wav');
  while (service.pool.running === 0) await new Promise((r) => setTimeout(r, 20));
  const second = await streamUpload(songWav({ seconds: 2 }).wav, 'second.wav');
  assert.equal(second.status, 503);
  assert.equal(second.events[0]?.data.error, 'queue_full');
  assert.equal((await busy).events.at(-1)?.event, 'result');
});

test('the OpenAPI document describes the event stream as a second answer of POST /api/analyze', async () => {
  const doc = (await (await fetch(`${origin}/docs/json`)).json()) as any;
  const ok = doc.paths['/api/analyze'].post.responses['200'].content;
  assert.ok(ok['application/json'].schema.properties.tempo);
  assert.equal(ok['text/event-stream'].schema.type, 'string');
  assert.match(ok['text/event-stream'].schema.description, /`progress`.*`result`.*`error`/s);
  assert.match(doc.paths['/api/analyze'].post.description, /Accept: text\/event-stream/);
});

test('GET / serves the page and every asset it names from the service, under a same-origin CSP', async () => {
  const res = await fetch(`${origin}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await res.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '').filter((u) => u.startsWith('/assets/'));
  assert.ok(assets.length >= 4, assets.join(', '));
  assert.ok(!/(?:src|href)="(?:https?:)?\/\//.test(html), 'no other origin named');
  for (const asset of assets) {
    const a = await fetch(`${origin}${asset}`);
    assert.equal(a.status, 200, asset);
    assert.ok((await a.arrayBuffer()).byteLength > 100, asset);
  }
  const missing = await fetch(`${origin}/assets/nothing-here.js`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: string }).error, 'not_found');
});
