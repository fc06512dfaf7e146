import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_STATUS } from '../src/index.js';

/** The page's compiled module (dist/web): plain functions, no DOM. */
const { errorSentence } = (await import(new URL('../web/messages.js', import.meta.url).href)) as {
  errorSentence(error: { error: string; message: string }, fileName: string, retryAfterSeconds: number | null): { text: string; retryAfterSeconds: number | null };
};

const FALLBACK = /^The analyser couldn't take this recording: /;

test('every error code the API answers has its own sentence, without the code', () => {
  for (const code of Object.keys(ERROR_STATUS)) {
    const { text } = errorSentence({ error: code, message: 'the service message' }, 'take.wav', null);
    assert.doesNotMatch(text, FALLBACK, `${code} has no sentence of its own`);
    assert.ok(!text.includes(code), `${code}: ${text}`);
    assert.match(text, /^[“A-Z].*[.!]$/, `${code}: a sentence: ${text}`);
  }
});

test('busy and restarting say when to retry; limits are read from the message when it names them', () => {
  assert.deepEqual(errorSentence({ error: 'queue_full', message: '' }, 'a.wav', 7), {
    text: 'The analyser is busy with other takes right now. Try again in 7 seconds.',
    retryAfterSeconds: 7,
  });
  assert.equal(errorSentence({ error: 'shutting_down', message: '' }, 'a.wav', 12).retryAfterSeconds, 12);
  assert.match(errorSentence({ error: 'file_too_large', message: 'the upload is larger than the limit of 100 MB' }, 'a.wav', null).text, /the limit is 100 MB/);
  assert.match(errorSentence({ error: 'audio_too_long', message: 'the recording is longer than 30 minutes' }, 'a.wav', null).text, /the limit is 30 minutes/);
  assert.doesNotMatch(errorSentence({ error: 'audio_too_long', message: 'too long' }, 'a.wav', null).text, /limit/);
});

test("answers that are not the API's own (a proxy in front of it) still read as sentences", () => {
  assert.equal(errorSentence({ error: 'unavailable', message: 'HTTP 502' }, 'a.wav', null).text, "The analyser can't be reached right now. Try again in 10 seconds.");
  assert.match(errorSentence({ error: 'file_too_large', message: 'HTTP 413' }, 'a.wav', null).text, /^“a\.wav” is too big to upload\. Try a shorter take/);
  assert.match(errorSentence({ error: 'unexpected_answer', message: 'HTTP 418' }, 'a.wav', null).text, /doesn't understand\. Reload the page/);
});

test('a refused hint is named as the hint, not as a broken page', () => {
  const { text } = errorSentence({ error: 'bad_request', message: "tempo_hint must be a number of beats per minute between 30 and 300" }, 'a.wav', null);
  assert.equal(text, "The analyser didn't accept your hint (tempo_hint must be a number of beats per minute between 30 and 300). Correct it or leave it empty, then try again.");
  assert.match(errorSentence({ error: 'bad_request', message: 'Multipart: Boundary not found' }, 'a.wav', null).text, /Reload the page/);
});

test('a refusal the page does not know yet still reads as a sentence, with the service message', () => {
  const { text } = errorSentence({ error: 'upload_timeout', message: 'the upload stalled for 30 s.' }, 'a.wav', null);
  assert.equal(text, "The analyser couldn't take this recording: the upload stalled for 30 s.");
});
