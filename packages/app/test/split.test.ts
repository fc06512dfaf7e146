import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUpload } from '../src/analysis/decode.js';
import { analyzeAudio, SPLIT_MIN_SECONDS } from '../src/analysis/analyze.js';
import type { ProgressEvent } from '../src/analysis/types.js';
import { songWav } from '../src/index.js';

test('a recording of a minute or more is analysed on two threads, with the same answer as on one', async () => {
  const { wav } = songWav({ seconds: SPLIT_MIN_SECONDS + 10, style: 'full' });
  const audio = await decodeUpload(new Uint8Array(wav), 600);
  const events: ProgressEvent[] = [];
  let helperEvents = 0;
  const split = await analyzeAudio(audio, 'split', (e) => events.push(e), undefined, { split: true, countExternalEvents: (n) => (helperEvents += n) });
  const single = await analyzeAudio(audio, 'single', () => {}, undefined, { split: false });
  // The notes ran in the helper: it reported their stage events (start and end).
  assert.equal(helperEvents, 2);
  assert.ok(!events.some((e) => e.type === 'stage' && e.stage === 'notes'), 'notes not in this thread');
  for (const stage of ['onsets', 'loudness', 'rhythm', 'key', 'chords']) assert.ok(events.some((e) => e.type === 'stage' && e.stage === stage), `${stage} in this thread`);
  for (const stage of ['rhythm', 'key', 'chords', 'onsets', 'notes', 'loudness']) assert.equal(typeof split.processing.algorithms_ms[stage], 'number', stage);
  assert.deepEqual(
    { tempo: split.tempo, key: split.key, tuning: split.tuning, notes: split.notes, onsets: split.onsets, chords: split.chords, loudness: split.loudness },
    { tempo: single.tempo, key: single.key, tuning: single.tuning, notes: single.notes, onsets: single.onsets, chords: single.chords, loudness: single.loudness },
  );
});
