import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guardSeconds, judgeMemory } from '../src/memory/guard.js';
import { songWav } from '../src/index.js';
import { fixture, startTestService, upload } from './helpers.js';

const MB = 1024 * 1024;

test('the estimate: RSS now plus the per-minute slope times the audio minutes, at risk past 95 % of the limit', () => {
  const v = judgeMemory(600, 200 * MB, { mode: 'warn', mbPerAudioMinute: 45, limitBytes: 1024 * MB });
  assert.equal(v?.estimatedPeakBytes, 650 * MB);
  assert.equal(v?.atRisk, false);
  assert.equal(judgeMemory(1200, 200 * MB, { mode: 'warn', mbPerAudioMinute: 45, limitBytes: 1024 * MB })?.atRisk, true);
  assert.equal(judgeMemory(1200, 200 * MB, { mode: 'off', mbPerAudioMinute: 45, limitBytes: 1024 * MB }), null);
  assert.equal(judgeMemory(1200, 200 * MB, { mode: 'reject', mbPerAudioMinute: 45, limitBytes: null }), null, 'no limit, nothing to judge');
});

// The service runs in this test process, whose RSS depends on the tests before: the limit is set
// 150 MB above it, so 4 minutes (about 280 MB at the guard's slope) pass 95 % of it and 5 s do not.
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
  assert.equal(guardSeconds(200 * MB, { mode: 'reject', mbPerAudioMinute: 50, limitBytes: 1000 * MB }), ((950 - 200) / 50) * 60);
  assert.equal(guardSeconds(990 * MB, { mode: 'reject', mbPerAudioMinute: 50, limitBytes: 1000 * MB }), 0);
  assert.equal(guardSeconds(200 * MB, { mode: 'reject', mbPerAudioMinute: 50, limitBytes: null }), Infinity);
  assert.equal(guardSeconds(200 * MB, { mode: 'off', mbPerAudioMinute: 50, limitBytes: 1000 * MB }), Infinity);
});
