import getType, { skipId3 } from 'audio-type';
import { SUPPORTED_FORMATS } from './analysis/decode.js';
import { ApiError } from './errors.js';

/**
 * Telling an upload that is not audio from its first bytes, while it is still arriving, so it is
 * refused (415) without reading — and holding — the rest. The same library and the same formats
 * as the worker's decode stage (`inspectUpload`), on the same bytes: the verdict is the one the
 * worker would give after the whole upload had been read and moved to it.
 */

/** How many bytes of the file the verdict needs (every supported container's magic sits in its first 36). */
export const SNIFF_BYTES = 4096;

/**
 * The refusal for a file starting with `head` (its first SNIFF_BYTES, or all of it when shorter),
 * or null when it may be audio the service reads. A file starting with an ID3v2 tag is never
 * refused here: what follows the tag decides, and the tag can be longer than the head.
 */
export function refuseNotAudio(head: Uint8Array): ApiError | null {
  const own = new Uint8Array(head.length); // audio-type reads the whole ArrayBuffer under a view
  own.set(head);
  if (skipId3(own) > 0) return null;
  const type = getType(own);
  if (!type) return new ApiError('unsupported_format', 'the file is not audio in a supported format (WAV, MP3, FLAC or OGG Vorbis)');
  if (!SUPPORTED_FORMATS[type]) return new ApiError('unsupported_format', `${type} audio is not supported; send WAV, MP3, FLAC or OGG Vorbis`);
  return null;
}
