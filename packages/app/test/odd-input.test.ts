import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { songWav } from '../src/index.js';
import { pcm16, wavHeader } from '../src/samples/wav.js';
import { fixture, junk, multipart, startTestService, upload, type TestService } from './helpers.js';

/**
 * Odd and hostile uploads by class: malformed multipart bodies, very short takes, very high sample
 * rates, RIFF details, and headers that lie about how much audio their bytes hold.
 */

let service: TestService;
before(async () => {
  service = await startTestService({ maxUploadBytes: 4 * 1024 * 1024, maxAudioSeconds: 120 });
});
after(async () => {
  await service.shutdown('test done');
});

/** A plucked-string-like tone: a decaying 220 Hz note with harmonics every quarter second. */
function tone(seconds: number, sampleRate: number, channels = 1): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const data = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    const since = t % 0.25;
    const v = 0.5 * Math.exp(-since * 12) * (Math.sin(2 * Math.PI * 220 * t) + 0.5 * Math.sin(2 * Math.PI * 440 * t));
    for (const ch of data) ch[i] = v;
  }
  return Buffer.concat([wavHeader(frames, channels, sampleRate), pcm16(data, frames)]);
}

function recordsOf(requestId: string): Array<Record<string, any>> {
  return service.records().filter((r) => r.request_id === requestId);
}

/** The request id of the latest request.rejected / analysis.failed record with this reason. */
function rejectedWith(reason: string): Record<string, any> {
  const r = service.records().filter((x) => (x.event === 'request.rejected' || x.event === 'analysis.failed') && x.reason === reason).at(-1);
  assert.ok(r, `no log record with reason ${reason}`);
  return r;
}

async function post(body: { payload: Buffer; headers: Record<string, string> }) {
  const res = await service.app.inject({ method: 'POST', url: '/api/analyze', ...body });
  return { status: res.statusCode, json: res.json() as Record<string, any>, headers: res.headers };
}

test('multipart without a boundary, or without its closing boundary: 400 malformed_multipart, not 500', async () => {
  const wav = tone(1, 8000);
  const noBoundary = await post({ payload: wav, headers: { 'content-type': 'multipart/form-data' } });
  assert.equal(noBoundary.status, 400, JSON.stringify(noBoundary.json));
  assert.equal(noBoundary.json.error, 'malformed_multipart');
  assert.match(noBoundary.json.message, /Boundary not found/);

  const whole = multipart([{ field: 'file', filename: 'take.wav', contentType: 'audio/wav', data: wav }]);
  const boundary = /boundary=(.+)$/.exec(whole.headers['content-type'] ?? '')?.[1] ?? '';
  for (const cut of [Buffer.byteLength(`--${boundary}--\r\n`), Buffer.byteLength(`\r\n--${boundary}--\r\n`) + 100]) {
    const res = await post({ payload: whole.payload.subarray(0, whole.payload.length - cut), headers: whole.headers });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error, 'malformed_multipart');
  }
  rejectedWith('malformed_multipart');
});

test('too many fields before the file: 400 too_many_parts naming the limits', async () => {
  const fields = Array.from({ length: 25 }, (_, i) => ({ field: `f${i}`, data: `value ${i}` }));
  const res = await post(multipart([...fields, { field: 'file', filename: 'take.wav', contentType: 'audio/wav', data: tone(1, 8000) }]));
  assert.equal(res.status, 400, JSON.stringify(res.json));
  assert.equal(res.json.error, 'too_many_parts');
  assert.match(res.json.message, /at most 20 fields/);
  rejectedWith('too_many_parts');
});

test('a part with a line break in its file name is ignored: 400 naming why, within seconds', async () => {
  const dispositions = ['form-data; name="file"; filename="a\nb.wav"', 'form-data; name="file"; filename="a\rb.wav"', "form-data; name=\"file\"; filename*=UTF-8''a%0Ab.wav"];
  for (const disposition of dispositions) {
    for (const seconds of [0.5, 1, 2]) {
      const boundary = 'XYZ';
      const payload = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: audio/wav\r\n\r\n`),
        tone(seconds, 22_050),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const started = performance.now();
      const res = await post({ payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.ok(['missing_file', 'malformed_multipart'].includes(res.json.error), res.json.error);
      assert.match(res.json.message, /Content-Disposition/);
      assert.ok(performance.now() - started < 10_000);
    }
  }
});

test('takes shorter than a second: 200 with what can be said (tempo needs more)', async () => {
  for (const seconds of [0.001, 0.02, 0.3, 0.9, 1.2]) {
    const res = await upload(service, tone(seconds, 44_100), `short ${seconds}.wav`);
    assert.equal(res.status, 200, `${seconds} s: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.audio.duration_seconds, seconds);
    assert.equal(res.json.tempo.bpm, null);
    assert.ok(Array.isArray(res.json.loudness.rms_db));
  }
});

test('sample rates up to 384 kHz are analysed (resampled to 44.1 kHz)', async () => {
  for (const rate of [192_000, 250_000, 352_800, 384_000]) {
    const res = await upload(service, tone(1.5, rate), `hi-res ${rate}.wav`);
    assert.equal(res.status, 200, `${rate} Hz: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.audio.sample_rate, rate);
    assert.equal(res.json.audio.duration_seconds, 1.5);
    assert.equal(res.json.audio.analysis_sample_rate, 44_100);
    assert.equal(res.json.tuning === null || Math.abs(res.json.tuning.cents_from_a440) < 50, true);
  }
  const tooHigh = tone(0.5, 8000);
  tooHigh.writeUInt32LE(768_000, 24);
  const res = await upload(service, tooHigh, 'too high.wav');
  assert.equal(res.status, 422);
  assert.match(res.json.message, /sample rate of 768000 Hz \(accepted: 8000–384000\)/);
});

/** Inserts a RIFF chunk (and its pad byte when its size is odd) right after the fmt chunk. */
function withChunk(wav: Buffer, id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'ascii');
  header.writeUInt32LE(body.length, 4);
  const pad = body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const out = Buffer.concat([wav.subarray(0, 36), header, body, pad, wav.subarray(36)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

test('a chunk of odd size before the data, followed by its RIFF pad byte, is valid: 200', async () => {
  const plain = tone(2, 22_050);
  for (const size of [1, 5, 13]) {
    const res = await upload(service, withChunk(plain, 'LIST', Buffer.alloc(size, 0x41)), `odd ${size}.wav`);
    assert.equal(res.status, 200, `${size}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.audio.duration_seconds, 2);
  }
  // Chunks after the data (a LIST tag at the end) are no audio.
  const tail = Buffer.concat([plain, Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]);
  tail.writeUInt32LE(tail.length - 8, 4);
  const res = await upload(service, tail, 'tail.wav');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.audio.duration_seconds, 2);
});

/** An ADPCM WAV: fmt with blockAlign and samplesPerBlock as given, `blocks` blocks of plausible data. */
function adpcmWav(opts: { tag: 1 | 2 | 0x11; channels: number; rate: number; blockAlign: number; samplesPerBlock: number; dataBytes: number }): Buffer {
  const { tag, channels, rate, blockAlign, samplesPerBlock, dataBytes } = opts;
  const ms = tag === 2;
  const extra = ms ? 4 + 7 * 4 : 2; // MS: samplesPerBlock, nCoef, 7 coefficient pairs
  const fmt = Buffer.alloc(18 + extra);
  fmt.writeUInt16LE(tag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE(Math.round((rate * blockAlign) / Math.max(1, samplesPerBlock)), 8);
  fmt.writeUInt16LE(blockAlign, 12);
  fmt.writeUInt16LE(4, 14);
  fmt.writeUInt16LE(extra, 16);
  fmt.writeUInt16LE(samplesPerBlock, 18);
  if (ms) {
    const coefs = [[256, 0], [512, -256], [0, 0], [192, 64], [240, 0], [460, -208], [392, -232]];
    fmt.writeUInt16LE(coefs.length, 20);
    coefs.forEach(([a, b], i) => {
      fmt.writeInt16LE(a ?? 0, 22 + i * 4);
      fmt.writeInt16LE(b ?? 0, 24 + i * 4);
    });
  }
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (i * 37 + 11) & 0xff;
  // Block preambles: predictor 0, a small delta, zero history.
  for (let b = 0; b + blockAlign <= dataBytes && blockAlign >= 7 * channels; b += blockAlign) {
    for (let c = 0; c < channels; c++) {
      if (ms) {
        data[b + c] = 0;
        data.writeInt16LE(16, b + channels + 2 * c);
      } else {
        data.writeInt16LE(0, b + 4 * c);
        data[b + 4 * c + 2] = 0;
      }
    }
  }
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.write('WAVE', 8, 'ascii');
  const fmtHead = Buffer.alloc(8);
  fmtHead.write('fmt ', 0, 'ascii');
  fmtHead.writeUInt32LE(fmt.length, 4);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'ascii');
  dataHead.writeUInt32LE(dataBytes, 4);
  const out = Buffer.concat([riff, fmtHead, fmt, dataHead, data]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

test('ADPCM headers that lie about samples per block are refused before decoding: 422, no decode stage', async () => {
  const lies = [
    { tag: 2 as const, channels: 1, blockAlign: 1, samplesPerBlock: 65535 },
    { tag: 2 as const, channels: 1, blockAlign: 7, samplesPerBlock: 65535 },
    { tag: 2 as const, channels: 2, blockAlign: 256, samplesPerBlock: 65535 },
    { tag: 0x11 as const, channels: 1, blockAlign: 4, samplesPerBlock: 65535 },
    { tag: 0x11 as const, channels: 1, blockAlign: 256, samplesPerBlock: 60000 },
  ];
  for (const lie of lies) {
    for (const dataBytes of [4096, 16 * 1024]) {
      const started = performance.now();
      const res = await upload(service, adpcmWav({ ...lie, rate: 44_100, dataBytes }), 'lying.wav');
      assert.equal(res.status, 422, `${JSON.stringify(lie)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error, 'corrupt_audio');
      assert.match(res.json.message, /ADPCM header declares \d+ samples per block of \d+ bytes/);
      assert.ok(performance.now() - started < 5000, 'refused at once');
      const id = rejectedWith('corrupt_audio').request_id as string;
      assert.ok(!recordsOf(id).some((r) => r.event === 'analysis.stage' && r.stage === 'decode'), 'refused before the decode stage');
    }
  }
});

test('honest ADPCM headers decode to exactly what the blocks hold', async () => {
  // MS ADPCM mono, 256-byte blocks: 2 + (256 − 7) × 2 = 500 samples each.
  const ms = await upload(service, adpcmWav({ tag: 2, channels: 1, rate: 8000, blockAlign: 256, samplesPerBlock: 500, dataBytes: 256 * 40 }), 'ms.wav');
  assert.equal(ms.status, 200, JSON.stringify(ms.json));
  assert.equal(ms.json.audio.duration_seconds, Number(((40 * 500) / 8000).toFixed(3)));
  // IMA ADPCM stereo, 512-byte blocks: 1 + (512 / 2 − 4) × 2 = 505 samples each.
  const ima = await upload(service, adpcmWav({ tag: 0x11, channels: 2, rate: 8000, blockAlign: 512, samplesPerBlock: 505, dataBytes: 512 * 20 }), 'ima.wav');
  assert.equal(ima.status, 200, JSON.stringify(ima.json));
  assert.equal(ima.json.audio.duration_seconds, Number(((20 * 505) / 8000).toFixed(3)));
});

test('a PCM header whose block size contradicts its channels and bits: 422', async () => {
  const wav = tone(1, 8000);
  wav.writeUInt16LE(1, 32); // blockAlign 1 for 16-bit mono
  const res = await upload(service, wav, 'pcm lie.wav');
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.match(res.json.message, /block size \(1 bytes\) does not match 1 channels of 16-bit samples/);
});

test('a length declared beyond the limit is refused from the header, before decoding: 422', async () => {
  // 3 minutes of 8 kHz mono (2.9 MB): under the size limit, over the 2-minute limit.
  const res = await upload(service, songWav({ seconds: 180, sampleRate: 8000 }).wav, 'long.wav');
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.match(res.json.message, /longer than the limit of 2 minutes \(3\.0 minutes, from its header\)/);
  const id = rejectedWith('audio_too_long').request_id as string;
  assert.ok(!recordsOf(id).some((r) => r.event === 'analysis.stage' && r.stage === 'decode'));
});

test('a FLAC or Ogg header declaring more audio than its bytes can hold: 422', async () => {
  const flac = Buffer.from(fixture('full-mono-16k.flac'));
  // STREAMINFO total samples: 36 bits from byte 21 (low nibble) to 25.
  flac[21] = ((flac[21] ?? 0) & 0xf0) | 0x0f;
  flac.writeUInt32BE(0xffffffff, 22);
  const res = await upload(service, flac, 'lying.flac');
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.match(res.json.message, /header declares \d+ samples per channel, more than \d+ bytes of FLAC can hold/);
});

test('an MP3 that is mostly not MPEG frames (junk after or amid real frames) is refused: 422, not seconds of decoded junk', async () => {
  const mp3 = fixture('lick-stereo-44k.mp3');
  const clean = await upload(service, mp3, 'clean.mp3', 'audio/mpeg');
  assert.equal(clean.status, 200);
  const seconds = clean.json.audio.duration_seconds as number;
  const half = 30_000;
  for (const [name, bytes] of [
    ['junk after the frames.mp3', Buffer.concat([mp3, junk(1024 * 1024, 7)])],
    ['junk amid the frames.mp3', Buffer.concat([mp3.subarray(0, half), junk(1024 * 1024, 9), mp3.subarray(half)])],
    ['zeros after the frames.mp3', Buffer.concat([mp3, Buffer.alloc(512 * 1024)])],
  ] as const) {
    const res = await upload(service, bytes, name, 'audio/mpeg');
    assert.equal(res.status, 422, `${name}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.error, 'corrupt_audio');
    assert.match(res.json.message, /MB of this [\d.]+ MB MP3 file are not MPEG audio frames \(the first from byte \d+\)/, name);
  }
  // What real files carry passes: a few damaged bytes, an ID3v1 tag, an APE tag, two takes of one stream joined.
  const id3v1 = Buffer.concat([Buffer.from('TAG'), Buffer.alloc(125, 0x20)]);
  const ape = Buffer.concat([Buffer.from('APETAGEX'), Buffer.alloc(200)]);
  for (const [name, bytes, expected] of [
    ['a little junk.mp3', Buffer.concat([mp3, junk(8 * 1024, 3)]), seconds],
    ['id3v1.mp3', Buffer.concat([mp3, id3v1]), seconds],
    ['ape.mp3', Buffer.concat([mp3, ape]), seconds],
    ['joined.mp3', Buffer.concat([mp3, mp3]), 2 * seconds],
  ] as const) {
    const res = await upload(service, bytes, name, 'audio/mpeg');
    assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    assert.ok(Math.abs((res.json.audio.duration_seconds as number) - expected) < 0.5, `${name}: ${res.json.audio.duration_seconds} s, expected about ${expected}`);
  }
});

test('a malformed URL: 400 JSON with a request.rejected record', async () => {
  const res = await service.app.inject({ method: 'GET', url: '/api/%zz' });
  assert.equal(res.statusCode, 400);
  assert.equal((res.json() as { error: string }).error, 'bad_request');
  const rec = rejectedWith('bad_request');
  assert.ok(rec.request_id);
  assert.match(String(rec.message), /not a valid url/);
});
