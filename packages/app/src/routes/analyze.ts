import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { PoolError } from '../analysis/pool.js';
import type { ProgressEvent } from '../analysis/types.js';
import { ApiError } from '../errors.js';
import { sanitizeFileName } from '../file-name.js';
import { describeVerdict } from '../memory/guard.js';
import type { ServerDeps } from '../server.js';
import { analysisResponseSchema, errorResponses } from './schemas.js';
import { hintsQuerySchema, parseHints } from './hints.js';

const MB = 1024 * 1024;
const mb = (bytes: number): number => Number((bytes / MB).toFixed(2));

interface Upload {
  fileName: string;
  contentType: string;
  bytes: Buffer;
  /** Kept apart: the bytes are moved to the worker, which empties the Buffer here. */
  sizeBytes: number;
}

/** Reads the multipart body: exactly one file, in the field `file`. */
async function readUpload(request: FastifyRequest): Promise<Upload> {
  if (!request.isMultipart()) {
    throw new ApiError('not_multipart', "send the recording as multipart/form-data, in a field named 'file'");
  }
  let upload: Upload | null = null;
  const otherFields: string[] = [];
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    const file = part as MultipartFile;
    if (file.fieldname !== 'file') {
      otherFields.push(file.fieldname);
      file.file.resume(); // drain it
      continue;
    }
    if (upload) throw new ApiError('too_many_files', "send one recording per request, in the field 'file'");
    const bytes = await file.toBuffer();
    upload = { fileName: sanitizeFileName(file.filename), contentType: file.mimetype, bytes, sizeBytes: bytes.length };
  }
  if (!upload) {
    const hint = otherFields.length > 0 ? ` (got a file in '${otherFields[0]}')` : '';
    throw new ApiError('missing_file', `no file in the field 'file'${hint}`);
  }
  if (upload.bytes.length === 0) throw new ApiError('empty_file', `'${upload.fileName}' is empty`);
  return upload;
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
          "multipart/form-data with one file in the field `file`: WAV, MP3, FLAC or OGG Vorbis, mono or stereo, any common sample rate. Answers tempo, beats, key, tuning, notes, onsets and timing, loudness over time, chords and processing figures. Optional query parameters carry what the musician knows (`bpm`, `time_signature`, `key`): each is used when given.",
        tags: ['analysis'],
        querystring: hintsQuerySchema,
        response: { 200: analysisResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const retryAfter = { 'Retry-After': String(config.retryAfterSeconds) };
      if (state.shuttingDown) throw new ApiError('shutting_down', 'the service is shutting down; retry shortly', retryAfter);
      if (!pool.hasRoom()) throw new ApiError('queue_full', 'too many analyses are running or waiting; retry shortly', retryAfter);
      const hints = parseHints(request.query);
      const upload = await readUpload(request);
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
        const outcome = await pool.run(request.id, ownArrayBuffer(upload.bytes), hints);
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
