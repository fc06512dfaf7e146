import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PoolError } from '../analysis/pool.js';
import type { ProgressEvent } from '../analysis/types.js';
import { ApiError } from '../errors.js';
import { readUpload } from '../read-upload.js';
import { describeVerdict } from '../memory/guard.js';
import type { ServerDeps } from '../server.js';
import { openProgressStream, withProgressStream } from './progress-stream.js';
import { analysisResponseSchema, analysisEventStreamSchema, errorResponses } from './schemas.js';
import { hintsQuerySchema, parseHints } from './hints.js';

const MB = 1024 * 1024;
const mb = (bytes: number): number => Number((bytes / MB).toFixed(2));
/** Room in a request body for the multipart framing and the small fields around the file. */
const MULTIPART_ALLOWANCE = MB;

/** `report` maps, counts and logs an error as the error handler does (for errors sent on the progress stream). */
export function analyzeRoute(app: FastifyInstance, deps: ServerDeps, report: (request: FastifyRequest, err: unknown) => ApiError): void {
  const { pool, memory, idle, metrics, progress, config, state } = deps;

  app.post(
    '/api/analyze',
    {
      schema: {
        summary: 'Analyse a guitar recording',
        description:
          "multipart/form-data with one file in the field `file`: WAV, MP3, FLAC or OGG Vorbis, mono or stereo, any common sample rate. Answers tempo, beats, key, tuning, notes, onsets and timing, loudness over time, chords and processing figures. Optional query parameters carry what the musician knows (`bpm`, `time_signature`, `key`): each is used when given.\n\n" +
          'With `Accept: text/event-stream` the same request answers with server-sent events once the upload is read: `accepted`, `progress` per stage (`{ stage, phase, completed, total, percent }`), then `result` (the JSON answer) or `error` (`{ error, message, status, retry_after_seconds? }`). Refusals before the upload is read keep their status and JSON body.',
        tags: ['analysis'],
        querystring: hintsQuerySchema,
        response: {
          200: { content: { 'application/json': { schema: analysisResponseSchema }, 'text/event-stream': { schema: analysisEventStreamSchema } } },
          ...errorResponses,
        },
      },
      // Before the body is read: a declared length beyond the limit is refused at once (the error
      // handler closes the connection, so the client stops sending).
      onRequest: async (request, reply) => {
        // Work until the answer is sent (or the client is gone): the idle collection waits for it.
        reply.raw.once('close', idle.begin());
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > config.maxUploadBytes + MULTIPART_ALLOWANCE) {
          throw new ApiError('file_too_large', `the upload is larger than the limit of ${Math.round(config.maxUploadBytes / MB)} MB (Content-Length: ${declared})`);
        }
      },
    },
    withProgressStream(async (request, reply) => {
      const retryAfter = { 'Retry-After': String(config.retryAfterSeconds) };
      if (state.shuttingDown) throw new ApiError('shutting_down', 'the service is shutting down; retry shortly', retryAfter);
      if (!pool.hasRoom()) throw new ApiError('queue_full', 'too many analyses are running or waiting; retry shortly', retryAfter);
      const hints = parseHints(request.query);
      const upload = await readUpload(request, config.maxUploadBytes, config.uploadIdleMs);
      const log = request.log.child({ module: 'analysis' });
      const started = performance.now();
      // Written (synchronously, to disk) before decoding starts: if the process dies now, this is the record that says why.
      log.info(
        { event: 'analysis.start', file_name: upload.fileName, content_type: upload.contentType, file_size_mb: mb(upload.sizeBytes) },
        'analysis started',
      );
      const live = openProgressStream(request, reply, { request_id: request.id, file: { name: upload.fileName, size_mb: mb(upload.sizeBytes) } });
      const tracked = memory.track(request.id, upload.fileName);
      let firstStageAt: number | null = null;
      const stopRouting = progress.on(request.id, (event: ProgressEvent) => {
        live?.progress(event);
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
        const outcome = await pool.run(request.id, upload.bytes, hints);
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
    }, report),
  );
}
