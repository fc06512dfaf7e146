import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_GUARD_MB_PER_MINUTE, DEFAULT_GUARD_SIGNAL_COPIES, guardSeconds, judgeMemory, type GuardSettings } from '../src/memory/guard.js';
import { songWav } from '../src/index.js';
import { fixture, startTestService, upload } from './helpers.js';

const MB = 1024 * 1024;

const settings = (over: Partial<GuardSettings> = {}): GuardSettings => ({ mode: 'warn', baseMb: 0, mbPerAudioMinute: 45, signalCopies: 0, limitBytes: 1024 * MB, ...over });
const mono44k = { sampleRate: 44_100, channels: 1 };

test('the estimate: RSS now plus the per-minute slope times the audio minutes, at risk past 95 % of the limit', () => {
  const v = judgeMemory(600, mono44k, 200 * MB, settings());
  assert.equal(v?.estimatedPeakBytes, 650 * MB);
  assert.equal(v?.atRisk, false);
  assert.equal(judgeMemory(1200, mono44k, 200 * MB, settings())?.atRisk, true);
  assert.equal(judgeMemory(1200, mono44k, 200 * MB, settings({ mode: 'off' })), null);
  assert.equal(judgeMemory(1200, mono44k, 200 * MB, settings({ mode: 'reject', limitBytes: null })), null, 'no limit, nothing to judge');
});

test('the estimate adds the decoded signal at the file\'s own rate and channels: a minute at 192 kHz stereo weighs more than one at 44.1 kHz mono', () => {
  const s = settings({ mbPerAudioMinute: DEFAULT_GUARD_MB_PER_MINUTE, signalCopies: DEFAULT_GUARD_SIGNAL_COPIES });
  assert.equal(judgeMemory(0, mono44k, 0, settings({ baseMb: 64 }))?.estimatedPeakBytes, 64 * MB, 'any analysis adds the base');
  const peak = (shape: { sampleRate: number; channels: number }): number => (judgeMemory(60, shape, 0, s)?.estimatedPeakBytes ?? 0) / MB;
  // 30 MB for the analysis, plus 1.5 float32 copies of a minute of the signal.
  assert.equal(peak(mono44k), 30 + (1.5 * 4 * 44_100 * 60) / MB);
  assert.equal(peak({ sampleRate: 192_000, channels: 2 }), 30 + (1.5 * 4 * 192_000 * 2 * 60) / MB);
  assert.ok(peak({ sampleRate: 192_000, channels: 2 }) > 3 * peak(mono44k));
  // The seconds let through shrink in the same proportion.
  const at = (shape: { sampleRate: number; channels: number }): number => guardSeconds(200 * MB, shape, { ...s, limitBytes: 1000 * MB });
  assert.ok(Math.abs(at(mono44k) * peak(mono44k) - at({ sampleRate: 192_000, channels: 2 }) * peak({ sampleRate: 192_000, channels: 2 })) < 1e-6);
});

// The service runs in this test process, whose RSS depends on the tests before: the limit is set
// 150 MB above it, so 4 minutes (about 260 MB at the guard's defaults for 44.1 kHz mono) pass 95 %
// of it and 5 s do not.
const long = songWav({ seconds: 240 }).wav;
const short = songWav({ seconds: 5 }).wav;

for (const mode of ['warn', 'reject', 'off'] as const) {
  test(`MEMORY_GUARD=${mode}`, async () => {
    const limitMb = Math.ceil(process.memoryUsage.rss() / MB) + 150;
    const service = await startTestService({ memoryGuard: mode, memoryLimitOverrideBytes: limitMb * MB, memoryThresholds: [99] });
    try {
      // A short recording is well within the limit: no guard record.
      assert.equal((await upload(service, short)).status, 200);
      assert.deepEqual(service.records().filter((r) => r.event === 'memory.guard'), []);
      const res = await upload(service, long, 'long take.wav');
      const guard = service.records().filter((r) => r.event === 'memory.guard');
      if (mode === 'off') {
        assert.equal(res.status, 200);
        assert.deepEqual(guard, []);
        return;
      }
      assert.equal(guard.length, 1);
      const g = guard[0] ?? {};
      assert.deepEqual([g.level, g.mode, g.stage, g.basis, g.file_name, g.audio_seconds, g.limit_mb], ['warn', mode, 'decode', 'container', 'long take.wav', 240, limitMb]);
      assert.ok(Number(g.estimated_peak_mb) > 0.95 * limitMb, String(g.estimated_peak_mb));
      if (mode === 'warn') {
        assert.equal(res.status, 200, 'warn analyses anyway');
      } else {
        assert.equal(res.status, 507);
        assert.equal(res.json.error, 'insufficient_memory');
        assert.match(res.json.message, /4\.0 minutes of audio would need about \d+ MB at the peak .* against a limit of \d+ MB; try a shorter recording/);
        const mine = service.records().filter((r) => r.request_id === g.request_id);
        assert.ok(!mine.some((r) => r.event === 'analysis.stage' && r.stage === 'rhythm'), 'the heavy algorithms never started');
        // Judged on the WAV header's length: refused before the decoder allocated anything.
        assert.ok(!mine.some((r) => r.event === 'analysis.stage' || r.event === 'analysis.decoded'), 'refused before the decode stage');
        assert.ok(mine.some((r) => r.event === 'request.rejected' && r.reason === 'insufficient_memory'));
      }
      const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, new RegExp(`guitar_backend_memory_guard_events_total\\{mode="${mode}"\\} 1`));
    } finally {
      await service.shutdown('test done');
    }
  });
}

test('MEMORY_GUARD=reject judges the length the container declares, for every format, before decoding', async () => {
  // A limit so low that even a few seconds are at risk: the refusal must come before any decode record.
  const service = await startTestService({ memoryGuard: 'reject', memoryLimitOverrideBytes: 64 * MB, memoryThresholds: [99] });
  try {
    for (const name of ['full-mono-16k.flac', 'lick-stereo-44k.mp3', 'lick-stereo-48k.ogg']) {
      const res = await upload(service, fixture(name), name);
      assert.equal(res.status, 507, `${name}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error, 'insufficient_memory');
      const guard = service.records().find((r) => r.event === 'memory.guard' && r.file_name === name);
      assert.equal(guard?.basis, 'container', name);
      assert.ok(Number(guard?.audio_seconds) > 1, `${name}: the length comes from the header`);
      const mine = service.records().filter((r) => r.request_id === guard?.request_id);
      assert.ok(!mine.some((r) => r.event === 'analysis.stage' || r.event === 'analysis.decoded'), `${name}: refused before the decode stage`);
    }
    // A FLAC whose STREAMINFO does not give its total: the decode itself stops where the guard refuses.
    const unknown = Buffer.from(fixture('full-mono-16k.flac'));
    unknown[21] = (unknown[21] ?? 0) & 0xf0;
    unknown.writeUInt32BE(0, 22);
    const res = await upload(service, unknown, 'no total.flac');
    assert.equal(res.status, 507, JSON.stringify(res.json));
    const guard = service.records().find((r) => r.event === 'memory.guard' && r.file_name === 'no total.flac');
    assert.equal(guard?.basis, 'decoded');
    assert.ok(Number(guard?.audio_seconds) < 6, `stopped early: ${guard?.audio_seconds} of 6 s`);
    assert.ok(!service.records().some((r) => r.request_id === guard?.request_id && r.event === 'analysis.decoded'), 'the decode never finished');
  } finally {
    await service.shutdown('test done');
  }
});

test('the seconds the guard lets through: what fits under 95 % of the limit at the per-minute slope', () => {
  const s = settings({ mode: 'reject', mbPerAudioMinute: 50, limitBytes: 1000 * MB });
  assert.equal(guardSeconds(200 * MB, mono44k, s), ((950 - 200) / 50) * 60);
  assert.equal(guardSeconds(990 * MB, mono44k, s), 0);
  assert.equal(guardSeconds(200 * MB, mono44k, { ...s, baseMb: 50 }), ((950 - 250) / 50) * 60);
  assert.equal(guardSeconds(200 * MB, mono44k, { ...s, limitBytes: null }), Infinity);
  assert.equal(guardSeconds(200 * MB, mono44k, { ...s, mode: 'off' }), Infinity);
});

test('MEMORY_GUARD=reject judges the file\'s own shape: a minute at 192 kHz stereo is refused where a minute at 44.1 kHz mono is analysed', async () => {
  const limitMb = Math.ceil(process.memoryUsage.rss() / MB) + 200;
  const service = await startTestService({ memoryGuard: 'reject', memoryLimitOverrideBytes: limitMb * MB, memoryThresholds: [99] });
  try {
    // At the defaults: about 125 MB for the mono minute, 242 MB for the 192 kHz stereo one.
    assert.equal((await upload(service, songWav({ seconds: 60 }).wav, 'mono.wav')).status, 200);
    const wide = await upload(service, songWav({ seconds: 60, sampleRate: 192_000, channels: 2 }).wav, 'wide.wav');
    assert.equal(wide.status, 507, JSON.stringify(wide.json));
    const guard = service.records().filter((r) => r.event === 'memory.guard');
    assert.deepEqual(guard.map((g) => [g.file_name, g.basis, g.audio_seconds]), [['wide.wav', 'container', 60]]);
  } finally {
    await service.shutdown('test done');
  }
});
