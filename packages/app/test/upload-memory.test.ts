import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { inspectUpload } from '../src/analysis/decode.js';
import { InputError } from '../src/analysis/input-error.js';
import { refuseNotAudio, SNIFF_BYTES } from '../src/audio-sniff.js';
import { songWav } from '../src/index.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';
import { UploadBuffer } from '../src/upload-buffer.js';
import { fixture, multipart, readLogRecords, startServiceProcess, startTestService, tempDir, upload } from './helpers.js';

/**
 * How an upload's memory is kept small and given back: a file that is not audio is refused from
 * its first bytes (the rest is never read), the bytes that are read go into one buffer, and the
 * main thread collects its garbage once, after the last piece of work.
 */

const MB = 1024 * 1024;

test('the sniff refuses exactly what the decode stage would refuse as not audio, from the first bytes', () => {
  const samples: Array<[string, Buffer]> = [
    ['wav', songWav({ seconds: 1 }).wav],
    ['mp3', fixture('lick-stereo-44k.mp3')],
    ['flac', fixture('full-mono-16k.flac')],
    ['ogg', fixture('lick-stereo-48k.ogg')],
    ['aiff', fixture('short.aiff')],
    ['zeros', Buffer.alloc(20_000)],
    ['text', Buffer.from('this is not audio at all, only words '.repeat(300))],
    ['png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(9000, 3)])],
    ['riff-avi', Buffer.concat([Buffer.from('RIFF\x00\x10\x00\x00AVI LIST'), Buffer.alloc(9000, 1)])],
    ['tiny', Buffer.from('RIF')],
  ];
  for (const [name, bytes] of samples) {
    // A view into a larger buffer, as the upload buffer gives it: the verdict reads only the view.
    const inBigger = Buffer.concat([bytes, Buffer.alloc(100, 0x52)]).subarray(0, bytes.length);
    const sniffed = refuseNotAudio(inBigger.subarray(0, SNIFF_BYTES));
    let worker: string | null = null;
    try {
      inspectUpload(new Uint8Array(bytes), 600);
    } catch (err) {
      if (err instanceof InputError && err.code === 'unsupported_format') worker = err.message;
    }
    assert.equal(sniffed?.message ?? null, worker, `${name}: the sniff and the decode stage agree`);
    if (sniffed) assert.equal(sniffed.status, 415);
  }
  // Audio behind an ID3v2 tag is never refused from the head: the tag may be longer than it.
  const tagged = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x7f\x7f'), Buffer.alloc(SNIFF_BYTES * 2, 0x20)]);
  assert.equal(refuseNotAudio(tagged.subarray(0, SNIFF_BYTES)), null);
});

test('a non-audio upload is refused (415, connection closed) after its first bytes, before the body is read in full', async () => {
  const service = await startTestService({ maxUploadBytes: 64 * MB });
  const sockets: net.Socket[] = [];
  service.app.server.on('connection', (s: net.Socket) => sockets.push(s));
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = new URL(address);
    const declaredFile = 32 * MB;
    const boundary = 'sniffboundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const first = Buffer.alloc(64 * 1024, 'not audio, just text; ');
    const answer = await new Promise<{ status: number; body: string; closed: Promise<void> }>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
      let data = '';
      socket.on('error', () => {});
      socket.setTimeout(15_000, () => reject(new Error(`no answer while the body was incomplete (got ${JSON.stringify(data.slice(0, 200))})`)));
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        const end = data.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(data)?.[1];
        if (end >= 0 && length && data.length >= end + 4 + Number(length)) {
          resolve({ status: Number(data.split(' ')[1]), body: data.slice(end + 4, end + 4 + Number(length)), closed });
        }
      });
      // The request declares 32 MB of file but sends only its first 64 KB, then waits for the answer.
      socket.write(
        `POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + declaredFile + tail.length}\r\n\r\n`,
      );
      socket.write(head);
      socket.write(first);
    });
    assert.equal(answer.status, 415, answer.body);
    assert.equal((JSON.parse(answer.body) as { error: string }).error, 'unsupported_format');
    await answer.closed; // the service closed the connection: the client stops sending
    const read = sockets.reduce((sum, s) => sum + s.bytesRead, 0);
    assert.ok(read < head.length + first.length + 4096, `read ${read} bytes of a ${declaredFile}-byte upload`);
    const rejected = service.records().filter((r) => r.event === 'request.rejected' && r.reason === 'unsupported_format');
    assert.equal(rejected.length, 1, 'one log record for the refusal');
    assert.equal(typeof rejected[0]?.request_id, 'string');
    assert.ok(!service.records().some((r) => r.event === 'analysis.start'), 'nothing reached the analysis');
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /guitar_backend_rejected_requests_total\{reason="unsupported_format"\} 1/);
  } finally {
    await service.shutdown('test done');
  }
});

test('the upload is read into one buffer: sized from Content-Length, grown when sent chunked, never past the limit', () => {
  const declared = new UploadBuffer(10 * MB, 3 * MB);
  assert.equal(declared.capacity, 3 * MB);
  const piece = Buffer.alloc(64 * 1024, 7);
  for (let i = 0; i < 40; i++) declared.append(piece);
  assert.equal(declared.capacity, 3 * MB, 'no copy while within the declared length');
  const taken = declared.take();
  assert.equal(taken.length, 40 * piece.length);
  assert.equal(taken.byteOffset, 0);
  assert.equal(taken.buffer.byteLength, 3 * MB, 'the buffer it was read into, not a copy: an ArrayBuffer of its own, movable to the worker');
  assert.equal(declared.length, 0, 'the upload buffer holds nothing afterwards');
  assert.ok(taken.every((b) => b === 7));

  const chunked = new UploadBuffer(3 * MB, null);
  assert.equal(chunked.capacity, 1 * MB);
  const bytes = Buffer.from(Array.from({ length: 3 * MB }, (_, i) => (i * 31) & 0xff));
  for (let at = 0; at < bytes.length; at += 10_000) chunked.append(bytes.subarray(at, at + 10_000));
  assert.equal(chunked.capacity, 3 * MB, 'grown by doubling, capped at the limit');
  assert.ok(chunked.take().equals(bytes));
  // A declared length beyond the limit reserves the limit only.
  assert.equal(new UploadBuffer(2 * MB, 50 * MB).capacity, 2 * MB);
});

test('the service collects its garbage once, a delay after the last request ends, and not while one runs', { timeout: 90_000 }, async () => {
  const logDir = tempDir('app-idle-');
  const svc = startServiceProcess({ LOG_DIR: logDir, LOG_LEVEL: 'info' }, undefined, NODE_FLAGS);
  try {
    const base = await svc.url;
    const post = async (data: Buffer, name: string): Promise<number> => {
      const body = multipart([{ field: 'file', filename: name, data }]);
      const res = await fetch(`${base}/api/analyze`, { method: 'POST', body: body.payload, headers: body.headers });
      await res.arrayBuffer();
      return res.status;
    };
    const records = (): Array<Record<string, any>> => readLogRecords(logDir);
    assert.equal(records().find((r) => r.event === 'service.start')?.idle_collect, true, 'node runs with gc() exposed');
    const firstStarted = Date.now();
    assert.equal(await post(songWav({ seconds: 4, style: 'lick' }).wav, 'take.wav'), 200);
    await new Promise((r) => setTimeout(r, 1000)); // less than the delay: the next request puts the collection off
    assert.equal(await post(Buffer.from('no audio here '.repeat(1000)), 'notes.wav'), 415);
    const lastEnded = Date.now();
    let collections: Array<Record<string, any>> = [];
    for (let waited = 0; waited < 30_000 && collections.length === 0; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      collections = records().filter((r) => r.event === 'memory.idle_collect');
    }
    assert.equal(collections.length, 1, 'one collection after the requests');
    const at = Date.parse(String(collections[0]?.time));
    assert.ok(at >= lastEnded + 4000, `collected ${at - lastEnded} ms after the last request ended (delay 5 s)`);
    assert.ok(at > firstStarted);
    const c = collections[0] ?? {};
    for (const field of ['duration_ms', 'rss_before_mb', 'rss_after_mb']) assert.equal(typeof c[field], 'number', field);
    // Idle, no work since: no second collection.
    await new Promise((r) => setTimeout(r, 6000));
    assert.equal(records().filter((r) => r.event === 'memory.idle_collect').length, 1);
  } finally {
    svc.child.kill('SIGTERM');
    await svc.exited;
  }
});

test('work is marked from the request to its answer and while its job runs', async () => {
  const service = await startTestService();
  try {
    assert.equal(service.idle.busy, 0);
    const pending = upload(service, songWav({ seconds: 4, style: 'lick' }).wav, 'take.wav');
    let seenDuringJob = -1;
    for (let i = 0; i < 200 && seenDuringJob < 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (service.pool.running > 0) seenDuringJob = service.idle.busy;
    }
    assert.ok(seenDuringJob >= 2, `request and job both marked while the job runs (busy ${seenDuringJob})`);
    assert.equal((await pending).status, 200);
    assert.equal(service.idle.busy, 0, 'all work ended with the answer');
  } finally {
    await service.shutdown('test done');
  }
});
