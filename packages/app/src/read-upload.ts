import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { refuseNotAudio, SNIFF_BYTES } from './audio-sniff.js';
import { ApiError } from './errors.js';
import { sanitizeFileName } from './file-name.js';
import { UploadBuffer } from './upload-buffer.js';
import { watchUpload, type UploadWatch } from './upload-watch.js';

/** Reading the upload of POST /api/analyze: one file from a multipart/form-data body, within the limits. */

const MB = 1024 * 1024;

export interface Upload {
  fileName: string;
  contentType: string;
  bytes: Buffer;
  /** Kept apart: the bytes are moved to the worker, which empties the Buffer here. */
  sizeBytes: number;
}

/**
 * Reads one file part to its end. Over `limit` bytes busboy stops feeding the stream (its 'limit'
 * event) but does not end it: the read stops there at once (413), without waiting for the rest.
 * A file whose first bytes are no audio the service reads is refused (415) as soon as they are
 * in, in the same way: nothing more of it is read or kept.
 */
async function readFile(file: MultipartFile, limit: number, watch: UploadWatch, expectedBytes: number | null): Promise<Buffer> {
  const stream = file.file;
  const tooLarge = (): ApiError => new ApiError('file_too_large', `the upload is larger than the limit of ${Math.round(limit / MB)} MB`);
  const overLimit = new Promise<never>((_, reject) => {
    stream.once('limit', () => {
      reject(tooLarge());
      stream.destroy(); // ends the read below; the chunks read so far go with it
    });
  });
  const collect = (async () => {
    const received = new UploadBuffer(limit, expectedBytes);
    let sniffed = false;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      watch.progress();
      received.append(chunk);
      if (!sniffed && received.length >= SNIFF_BYTES) {
        sniffed = true;
        // Not audio: refused now, the stream destroyed as the loop ends, the rest never read.
        const refusal = refuseNotAudio(received.head(SNIFF_BYTES));
        if (refusal) throw refusal;
      }
    }
    if (stream.truncated) throw tooLarge();
    const refusal = !sniffed && received.length > 0 ? refuseNotAudio(received.head(SNIFF_BYTES)) : null;
    if (refusal) throw refusal;
    return received.take();
  })();
  collect.catch(() => {}); // after a 'limit', overLimit carries the answer
  overLimit.catch(() => {});
  return Promise.race([collect, overLimit]);
}

/** The request's Content-Length (the file is at most that long), or null when it is sent chunked. */
function declaredLength(request: FastifyRequest): number | null {
  const declared = Number(request.headers['content-length']);
  return Number.isSafeInteger(declared) && declared > 0 ? declared : null;
}

/**
 * Reads the multipart body: exactly one file, in the field `file`. When @fastify/multipart stops
 * a file stream early (a fields or parts limit crossed before the file), the reason is the next
 * thing its iterator gives: that error is the answer, not the stream's "premature close".
 */
async function readParts(request: FastifyRequest, limit: number, watch: UploadWatch, abandoned: () => boolean): Promise<Upload> {
  let upload: Upload | null = null;
  const otherFields: string[] = [];
  const parts = request.parts();
  for (let next = await parts.next(); !next.done && !abandoned(); next = await parts.next()) {
    watch.progress();
    const part = next.value;
    if (part.type !== 'file') continue;
    const file = part as MultipartFile;
    if (file.fieldname !== 'file') {
      otherFields.push(file.fieldname ?? '');
      file.file.resume(); // drain it
      continue;
    }
    if (upload) throw new ApiError('too_many_files', "send one recording per request, in the field 'file'");
    let bytes: Buffer;
    try {
      bytes = await readFile(file, limit, watch, declaredLength(request));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') await parts.next(); // throws the reason, if there is one
      throw err;
    }
    upload = { fileName: sanitizeFileName(file.filename), contentType: file.mimetype, bytes, sizeBytes: bytes.length };
  }
  if (!upload) {
    const other = otherFields[0];
    const hint = otherFields.length === 0 ? '' : other ? ` (got a file in '${other}')` : ' (got a file without a field name)';
    throw new ApiError('missing_file', `no file in the field 'file'${hint}; a part without a valid Content-Disposition header (e.g. a line break in its file name) is ignored`);
  }
  if (upload.bytes.length === 0) throw new ApiError('empty_file', `'${upload.fileName}' is empty`);
  return upload;
}

/** Reads the upload, ending with an API error if it stops moving (see watchUpload): every request ends. */
export async function readUpload(request: FastifyRequest, limit: number, idleMs: number): Promise<Upload> {
  if (!request.isMultipart()) {
    throw new ApiError('not_multipart', "send the recording as multipart/form-data, in a field named 'file'");
  }
  const watch = watchUpload(request.raw, idleMs);
  let gaveUp = false;
  const reading = readParts(request, limit, watch, () => gaveUp);
  try {
    return await Promise.race([reading, watch.failed]);
  } catch (err) {
    gaveUp = true;
    reading.catch(() => {}); // a stalled reader may settle later, when the connection closes
    throw err;
  } finally {
    watch.stop();
  }
}

