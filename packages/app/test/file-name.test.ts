import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeFileName } from '../src/file-name.js';

test('file names lose their path, control characters and reserved characters, and are bounded', () => {
  assert.equal(sanitizeFileName('../../etc/passwd'), 'passwd');
  assert.equal(sanitizeFileName('C:\\Users\\me\\take 1.wav'), 'take 1.wav');
  assert.equal(sanitizeFileName('a\u0000b\u001bc\nd.wav'), 'abcd.wav');
  assert.equal(sanitizeFileName('what?<>|.mp3'), 'what____.mp3');
  assert.equal(sanitizeFileName('ギター練習.flac'), 'ギター練習.flac');
  assert.equal(sanitizeFileName(''), 'unnamed');
  assert.equal(sanitizeFileName('..'), 'unnamed');
  assert.equal(sanitizeFileName(undefined), 'unnamed');
  assert.equal(sanitizeFileName('x'.repeat(500)).length, 201);
});
