import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { songWav } from '../src/index.js';
import { fixture, multipart, startTestService, upload, type TestService } from './helpers.js';

let service: TestService;
before(async () => {
  service = await startTestService({ maxUploadBytes: 2 * 1024 * 1024, maxAudioSeconds: 60 });
});
after(async () => {
  await service.shutdown('test done');
});

const wav = songWav({ seconds: 3, style: 'lick' }).wav;

/** Every rejection is a 4xx JSON body naming the problem, and a log record with the reason. */
async function expectRejected(res: { status: number; json: Record<string, any> }, status: number, code: string, message: RegExp): Promise<void> {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json.error, code);
  assert.match(res.json.message, message);
  const logged = service.records().filter((r) => r.event === 'request.rejected' || r.event === 'analysis.failed');
  assert.ok(logged.some((r) => r.reason === code), `no log record with reason ${code}`);
}

test('not multipart: 415', async () => {
  const json = await service.app.inject({ method: 'POST', url: '/api/analyze', payload: { file: 'x' } });
  await expectRejected({ status: json.statusCode, json: json.json() }, 415, 'not_multipart', /multipart\/form-data/);
  const raw = await service.app.inject({ method: 'POST', url: '/api/analyze', payload: wav, headers: { 'content-type': 'audio/wav' } });
  await expectRejected({ status: raw.statusCode, json: raw.json() }, 415, 'not_multipart', /field named 'file'/);
});

test('no file field, a file under another name, two files: 400', async () => {
  const none = await service.app.inject({ method: 'POST', url: '/api/analyze', ...multipart([{ field: 'note', data: 'hello' }]) });
  await expectRejected({ status: none.statusCode, json: none.json() }, 400, 'missing_file', /^no file in the field 'file'; a part without/);
  const other = await service.app.inject({ method: 'POST', url: '/api/analyze', ...multipart([{ field: 'audio', filename: 'a.wav', data: wav }]) });
  await expectRejected({ status: other.statusCode, json: other.json() }, 400, 'missing_file', /got a file in 'audio'/);
  const two = await service.app.inject({
    method: 'POST',
    url: '/api/analyze',
    ...multipart([
      { field: 'file', filename: 'a.wav', data: wav },
      { field: 'file', filename: 'b.wav', data: wav },
    ]),
  });
  await expectRejected({ status: two.statusCode, json: two.json() }, 400, 'too_many_files', /one recording per request/);
});

test('an empty file: 400', async () => {
  await expectRejected(await upload(service, Buffer.alloc(0), 'empty.wav'), 400, 'empty_file', /'empty.wav' is empty/);
});

test('non-audio bytes with an audio extension, and a format the service does not take: 415', async () => {
  await expectRejected(await upload(service, Buffer.from('definitely not a recording '.repeat(200)), 'song.mp3'), 415, 'unsupported_format', /not audio in a supported format/);
  await expectRejected(await upload(service, fixture('short.aiff'), 'take.aiff'), 415, 'unsupported_format', /aiff audio is not supported/);
  const mp3InWav = Buffer.from(wav);
  mp3InWav.writeUInt16LE(0x55, 20); // format tag: MPEG Layer III inside a WAV container
  await expectRejected(await upload(service, mp3InWav, 'odd.wav'), 415, 'unsupported_format', /codec the service does not decode/);
});

test('truncated WAV, MP3, FLAC and OGG files: 422 naming what is missing', async () => {
  const cut = (b: Buffer, ratio: number): Buffer => b.subarray(0, Math.floor(b.length * ratio) + 1);
  await expectRejected(await upload(service, cut(wav, 0.5), 'cut.wav'), 422, 'corrupt_audio', /truncated WAV: the WAV data chunk declares \d+ bytes but the file holds \d+/);
  const mp3 = fixture('lick-stereo-44k.mp3');
  await expectRejected(await upload(service, cut(mp3, 0.5), 'cut.mp3'), 422, 'corrupt_audio', /truncated MP3: the file ends inside an MP3 frame header/);
  await expectRejected(await upload(service, cut(mp3, 0.6), 'cut.mp3'), 422, 'corrupt_audio', /truncated MP3: the last MP3 frame needs \d+ more bytes/);
  await expectRejected(await upload(service, cut(fixture('full-mono-16k.flac'), 0.5), 'cut.flac'), 422, 'corrupt_audio', /truncated FLAC: STREAMINFO declares 96000 samples/);
  await expectRejected(await upload(service, cut(fixture('lick-stereo-48k.ogg'), 0.5), 'cut.ogg'), 422, 'corrupt_audio', /truncated OGG/);
});

test('corrupt data after a valid header: 422', async () => {
  for (const [name, label] of [['full-mono-16k.flac', 'FLAC'], ['lick-stereo-48k.ogg', 'OGG Vorbis']] as const) {
    const bytes = Buffer.from(fixture(name));
    for (let i = 200; i < bytes.length - 300; i += 50) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await expectRejected(await upload(service, bytes, name), 422, 'corrupt_audio', new RegExp(`no audio could be decoded from this ${label} file|could not be decoded|header declares \\d+ samples`));
  }
  const garbage = Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVE'), Buffer.alloc(100, 7)]);
  await expectRejected(await upload(service, garbage, 'riff.wav'), 422, 'corrupt_audio', /no audio could be decoded from this WAV file/);
});

test('absurd header values are refused before anything large is allocated: 422', async () => {
  const channels = Buffer.from(wav);
  channels.writeUInt16LE(65535, 22);
  await expectRejected(await upload(service, channels, 'wide.wav'), 422, 'corrupt_audio', /declares 65535 channels/);
  const rate = Buffer.from(wav);
  rate.writeUInt32LE(0, 24);
  await expectRejected(await upload(service, rate, 'rate.wav'), 422, 'corrupt_audio', /sample rate of 0 Hz/);
  const huge = Buffer.from(wav);
  huge.writeUInt32LE(0xfffffff0, 40); // data chunk claiming ~4 GB
  await expectRejected(await upload(service, huge, 'huge.wav'), 422, 'corrupt_audio', /declares 4294967280 bytes/);
});

test('over the upload size limit: 413', async () => {
  await expectRejected(await upload(service, songWav({ seconds: 30 }).wav, 'big.wav'), 413, 'file_too_large', /larger than the limit of 2 MB/);
});

test('over the duration limit: 422, found from the header before decoding', async () => {
  // 70 s of 8 kHz audio is 1.1 MB: under the size limit, over the 60 s limit.
  await expectRejected(await upload(service, songWav({ seconds: 70, sampleRate: 8000 }).wav, 'long.wav'), 422, 'audio_too_long', /longer than the limit of 1 minutes/);
});

test('the client file name is only logged, sanitized, never used as a path; the service still works after all of this', async () => {
  const res = await upload(service, wav, '../../etc/cron.d/evil\u0007name.wav');
  assert.equal(res.status, 200);
  assert.equal(res.json.file.name, 'evilname.wav');
  assert.ok(!fs.existsSync('/etc/cron.d/evilname.wav'));
  const start = service.records().find((r) => r.event === 'analysis.start' && r.request_id === res.json.request_id);
  assert.equal(start?.file_name, 'evilname.wav');
  const health = await service.app.inject({ method: 'GET', url: '/api/health' });
  assert.equal(health.json().status, 'ok');
});
