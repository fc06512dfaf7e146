import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { PoolError } from '../analysis/pool.js';
import type { ProgressEvent } from '../analysis/types.js';
import { ApiError } from '../errors.js';
import { sanitizeFileName } from '../file-name.js';
import { watchUpload, type UploadWatch } from '../upload-watch.js';
import { describeVerdict } from '../memory/guard.js';
import type { ServerDeps } from '../server.js';
import { analysisResponseSchema, errorResponses } from './schemas.js';

const MB = 1024 * 1024;
const mb = (bytes: number): number => Number((bytes / MB).toFixed(2));
/** Room in a request body for the multipart framing and the small fields around the file. */
export const MULTIPART_ALLOWANCE = MB;

interface Upload {
  fileName: string;
  contentType: string;
  bytes: Buffer;
  /** Kept apart: the bytes are moved to the worker, which empties the Buffer here. */
  sizeBytes: number;
}

/**
 * Reads one file part to its end. Over `limit` bytes busboy stops feeding the stream (its 'limit'
 * event) but does not end it: the read stops there at once (413), without waiting for the rest.
 */
async function readFile(file: MultipartFile, limit: number, watch: UploadWatch): Promise<Buffer> {
  const stream = file.file;
  const tooLarge = (): ApiError => new ApiError('file_too_large', `the upload is larger than the limit of ${Math.round(limit / MB)} MB`);
  const overLimit = new Promise<never>((_, reject) => {
    stream.once('limit', () => {
      reject(tooLarge());
      stream.destroy(); // ends the read below; the chunks read so far go with it
    });
  });
  const collect = (async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      watch.progress();
      chunks.push(chunk);
      size += chunk.length;
    }
    if (stream.truncated) throw tooLarge();
    return Buffer.concat(chunks, size);
  })();
  collect.catch(() => {}); // after a 'limit', overLimit carries the answer
  overLimit.catch(() => {});
  return Promise.race([collect, overLimit]);
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
      bytes = await readFile(file, limit, watch);
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
async function readUpload(request: FastifyRequest, limit: number, idleMs: number): Promise<Upload> {
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

/** The upload's bytes as an ArrayBuffer of their own, so they can be moved to the worker without a copy. */
function ownArrayBuffer(bytes: Buffer): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

export function analyzeRoute(app: FastifyInstance, deps: ServerDeps): void {
  const { pool, memory, metrics, progress, config, state } = deps;

  app.post(
    '/api/analyze',
    {
      schema: {
        summary: 'Analyse a guitar recording',
        description:
          "multipart/form-data with one file in the field `file`: WAV, MP3, FLAC or OGG Vorbis, mono or stereo, any common sample rate. Answers tempo, beats, key, tuning, notes, onsets and timing, loudness over time, chords and processing figures.",
        tags: ['analysis'],
        response: { 200: analysisResponseSchema, ...errorResponses },
      },
      // Before the body is read: a declared length beyond the limit is refused at once (the error
      // handler closes the connection, so the client stops sending).
      onRequest: async (request) => {
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > config.maxUploadBytes + MULTIPART_ALLOWANCE) {
          throw new ApiError('file_too_large', `the upload is larger than the limit of ${Math.round(config.maxUploadBytes / MB)} MB (Content-Length: ${declared})`);
        }
      },
    },
    async (request) => {
      const retryAfter = { 'Retry-After': String(config.retryAfterSeconds) };
      if (state.shuttingDown) throw new ApiError('shutting_down', 'the service is shutting down; retry shortly', retryAfter);
      if (!pool.hasRoom()) throw new ApiError('queue_full', 'too many analyses are running or waiting; retry shortly', retryAfter);
      const upload = await readUpload(request, config.maxUploadBytes, config.uploadIdleMs);
      const log = request.log.child({ module: 'analysis' });
      const started = performance.now();
      // Written (synchronously, to disk) before decoding starts: if the process dies now, this is the record that says why.
      log.info(
        { event: 'analysis.start', file_name: upload.fileName, content_type: upload.contentType, file_size_mb: mb(upload.sizeBytes) },
        'analysis started',
      );
      const tracked = memory.track(request.id, upload.fileName);
      let firstStageAt: number | null = null;
      const stopRouting = progress.on(request.id, (event: ProgressEvent) => {
        if (event.type === 'stage') {
          firstStageAt ??= performance.now();
          tracked.setStage(event.stage, event.wasmHeapBytes);
          log.info({ event: 'analysis.stage', stage: event.stage, phase: 'start', rss_mb: mb(event.rssBytes), wasm_heap_mb: mb(event.wasmHeapBytes) }, `${event.stage} started`);
        } else if (event.type === 'decoded') {
          log.info(
            {
              event: 'analysis.decoded',
              stage: 'decode',
              format: event.format,
              audio_seconds: Number(event.durationSeconds.toFixed(3)),
              sample_rate: event.sampleRate,
              channels: event.channels,
              duration_ms: event.decodeMs,
              rss_mb: mb(event.rssBytes),
            },
            'decoded',
          );
        } else if (event.type === 'guard') {
          metrics.memoryGuard.inc({ mode: event.mode });
          const v = event.verdict;
          log.warn(
            {
              event: 'memory.guard',
              mode: event.mode,
              stage: 'decode',
              // container: judged on the length the header declares, before decoding; decoded: after.
              basis: event.basis,
              file_name: upload.fileName,
              audio_seconds: Number(v.audioSeconds.toFixed(3)),
              rss_mb: mb(v.rssBytes),
              estimated_peak_mb: mb(v.estimatedPeakBytes),
              limit_mb: mb(v.limitBytes),
            },
            event.mode === 'reject' ? `refusing: ${describeVerdict(v)}` : `analysing anyway (MEMORY_GUARD=warn): ${describeVerdict(v)}`,
          );
        } else {
          tracked.setStage(event.stage, event.wasmHeapBytes);
          log.info(
            { event: 'analysis.stage', stage: event.stage, phase: 'end', duration_ms: event.ms, rss_mb: mb(event.rssBytes), wasm_heap_mb: mb(event.wasmHeapBytes) },
            `${event.stage} done`,
          );
        }
      });
      let outcomeLabel = 'error';
      try {
        const outcome = await pool.run(request.id, ownArrayBuffer(upload.bytes));
        await progress.settle(request.id, outcome.eventsPosted);
        if (outcome.retired) metrics.workerRetirements.inc();
        if (!outcome.ok) {
          outcomeLabel = outcome.code;
          if (outcome.code === 'analysis_out_of_memory') metrics.workerFailures.inc({ reason: 'out_of_memory' });
          log.warn({ event: 'analysis.failed', stage: outcome.stage, reason: outcome.code, peak_rss_mb: mb(tracked.peakRss()) }, outcome.message);
          throw new ApiError(outcome.code, outcome.message);
        }
        const result = outcome.result;
        const totalMs = Math.round(performance.now() - started);
        const queueMs = firstStageAt === null ? 0 : Math.round(firstStageAt - started);
        const peakRss = tracked.peakRss();
        outcomeLabel = 'ok';
        metrics.audioSeconds.inc(result.audio.duration_seconds);
        metrics.analysisPeakRss.observe(peakRss);
        log.info(
          {
            event: 'analysis.end',
            duration_ms: totalMs,
            queue_ms: queueMs,
            audio_seconds: result.audio.duration_seconds,
            peak_rss_mb: mb(peakRss),
            wasm_heap_mb: result.processing.wasm_heap_mb,
            bpm: result.tempo.bpm,
            key: result.key?.name ?? null,
            notes: result.notes.length,
            worker_retired: outcome.retired,
          },
          'analysis finished',
        );
        return {
          request_id: request.id,
          file: { name: upload.fileName, size_mb: mb(upload.sizeBytes), content_type: upload.contentType },
          ...result,
          processing: { ...result.processing, queue_ms: queueMs, total_ms: totalMs, peak_rss_mb: mb(peakRss) },
        };
      } catch (err) {
        if (err instanceof PoolError) {
          outcomeLabel = err.reason;
          const stage = tracked.stage();
          if (err.reason === 'queue_full') throw new ApiError('queue_full', 'too many analyses are running or waiting; retry shortly', retryAfter);
          if (err.reason === 'aborted') throw new ApiError('shutting_down', err.message, retryAfter);
          if (err.reason === 'worker_died') {
            metrics.workerFailures.inc({ reason: 'worker_died' });
            log.error({ event: 'analysis.failed', reason: 'worker_died', stage, peak_rss_mb: mb(tracked.peakRss()), error: err }, 'the analysis worker died');
            throw new ApiError('analysis_out_of_memory', 'the analysis worker died while analysing this file (most likely out of memory); the service carries on');
          }
          log.error({ event: 'analysis.failed', reason: 'failed', stage, error: err }, 'analysis failed');
          throw new ApiError('analysis_failed', 'the analysis failed unexpectedly; the error is in the service log');
        }
        throw err;
      } finally {
        stopRouting();
        tracked.stop();
        metrics.analysisDuration.observe({ outcome: outcomeLabel }, (performance.now() - started) / 1000);
      }
    },
  );
}
