import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logging } from '@guitar-backend/logger';
import type { AnalysisPool } from './analysis/pool.js';
import type { ProgressRouter } from './analysis/progress-router.js';
import type { AppConfig } from './config.js';
import { clientErrorHandler } from './client-error.js';
import { ApiError, ERROR_STATUS, type ErrorCode } from './errors.js';
import type { MemoryWatch } from './memory/watch.js';
import type { IdleCollector } from './memory/idle-collect.js';
import type { Metrics } from './metrics.js';
import { analyzeRoute } from './routes/analyze.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { pageRoutes } from './routes/page.js';
import type { ServiceState } from './state.js';

export interface ServerDeps {
  config: AppConfig;
  logging: Logging;
  pool: AnalysisPool;
  progress: ProgressRouter;
  memory: MemoryWatch;
  /** Collects the main thread's garbage once the analysis route goes quiet. */
  idle: IdleCollector;
  metrics: Metrics;
  state: ServiceState;
}

/** Fastify's own error codes, as the API's. */
const FASTIFY_ERRORS: Record<string, ErrorCode> = {
  FST_REQ_FILE_TOO_LARGE: 'file_too_large',
  FST_ERR_CTP_BODY_TOO_LARGE: 'file_too_large',
  FST_FILES_LIMIT: 'too_many_files',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'not_multipart',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'not_multipart',
  FST_PARTS_LIMIT: 'too_many_parts',
  FST_FIELDS_LIMIT: 'too_many_parts',
  FST_PROTO_VIOLATION: 'bad_request',
  FST_INVALID_JSON_FIELD_ERROR: 'bad_request',
};

/** What busboy's own (code-less) errors mean: the multipart body is not well formed. */
const MALFORMED_MULTIPART = /Boundary not found|Unexpected end of (multipart|form)|terminated early|Malformed|Premature close/i;

/** Multipart limits: one file, a few small fields around it. */
export const MULTIPART_LIMITS = { files: 2, fields: 20, parts: 30, fieldSize: 32 * 1024, headerPairs: 100 };

/** The client went away (reset, closed) before its request was read: nothing to answer. */
export function isClientGone(err: FastifyError, request: FastifyRequest): boolean {
  return (err.code === 'ECONNRESET' || err.message === 'aborted' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') && request.raw.destroyed;
}

function toApiError(err: FastifyError, maxUploadBytes: number): ApiError {
  if (err instanceof ApiError) return err;
  const code = err.code ? FASTIFY_ERRORS[err.code] : undefined;
  if (code === 'file_too_large') return new ApiError(code, `the upload is larger than the limit of ${Math.round(maxUploadBytes / 1024 / 1024)} MB`);
  if (code === 'too_many_files') return new ApiError(code, "send one recording per request, in the field 'file'");
  if (code === 'not_multipart') return new ApiError(code, "send the recording as multipart/form-data, in a field named 'file'");
  if (code === 'too_many_parts') {
    return new ApiError(code, `too many form fields or parts (at most ${MULTIPART_LIMITS.fields} fields and ${MULTIPART_LIMITS.parts} parts); send the recording in the field 'file'`);
  }
  if (code) return new ApiError(code, err.message);
  if (!err.statusCode && MALFORMED_MULTIPART.test(err.message)) {
    return new ApiError('malformed_multipart', `the multipart/form-data body is not well formed: ${err.message}`);
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError('bad_request', err.message);
  return new ApiError('analysis_failed', 'the request failed unexpectedly; the error is in the service log');
}

/** Builds the service without listening (tests use `inject`). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, logging, metrics } = deps;
  const httpLog = logging.logger.child({ module: 'http' });
  // Typed as a plain FastifyInstance: route modules need not know the logger is pino.
  const app = Fastify({
    loggerInstance: httpLog,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    genReqId: () => crypto.randomUUID(),
    // Every request ends: the whole request must arrive within requestTimeout (Node answers 408
    // through clientErrorHandler); the socket itself has no idle timeout, since it is quiet while
    // an analysis runs, and an upload that stops moving is ended by the route (UPLOAD_IDLE_SECONDS).
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: 0,
    // Node checks the headers' and the request's timeouts every connectionsCheckingInterval (30 s by default).
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    clientErrorHandler: clientErrorHandler(httpLog, metrics),
    frameworkErrors: (err, request, reply) => {
      metrics.rejected.inc({ reason: 'bad_request' });
      request.log.warn({ event: 'request.rejected', reason: 'bad_request', status: 400, error_code: err.code }, err.message);
      void (reply as unknown as FastifyReply).code(400).send({ error: 'bad_request', message: err.message });
    },
  }) as unknown as FastifyInstance;

  await app.register(multipart, {
    limits: { fileSize: config.maxUploadBytes, ...MULTIPART_LIMITS },
    throwFileSizeLimit: true,
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'guitar-backend',
        version: deps.state.version,
        description: 'Guitar practice recordings in, musical analysis out. Errors are `{ error, message }` with the status below.',
      },
    },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const { openapiObject } = documentObject;
      // Multipart bodies are read by @fastify/multipart, not by a body schema: document the form here.
      const doc = openapiObject as { paths?: Record<string, Record<string, Record<string, unknown>>> };
      const post = doc.paths?.['/api/analyze']?.post;
      if (post) {
        post.requestBody = {
          required: true,
          content: {
            'multipart/form-data': {
              schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary', description: 'WAV, MP3, FLAC or OGG Vorbis' } } },
            },
          },
        };
      }
      return openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  /** Maps an error to the API's answer, counts it and logs it (the error handler, and errors sent on a progress stream). */
  const reportError = (request: FastifyRequest, err: unknown): ApiError => {
    const api = toApiError(err as FastifyError, config.maxUploadBytes);
    metrics.rejected.inc({ reason: api.code });
    const log = request.log.child({ module: 'http' });
    // Refusals by design (full queue, shutdown, memory) are warnings; anything else at 5xx is a bug.
    const refusal = ['queue_full', 'shutting_down', 'analysis_out_of_memory', 'insufficient_memory'].includes(api.code);
    if (api.status >= 500 && !refusal) {
      log.error({ event: 'request.failed', reason: api.code, error: err }, api.message);
    } else {
      log.warn({ event: 'request.rejected', reason: api.code, status: api.status }, api.message);
    }
    return api;
  };
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    if (isClientGone(err, request)) {
      metrics.rejected.inc({ reason: 'client_gone' });
      request.log.info({ event: 'request.aborted', bytes_received: request.raw.socket?.bytesRead }, 'the client closed the connection before its upload was read');
      return reply.code(400).send({ error: 'bad_request', message: 'the client closed the connection' });
    }
    const api = reportError(request, err);
    // Answered before the whole body arrived (too large, refused, stalled): close the connection,
    // so the client stops sending instead of the server reading the rest.
    if (!request.raw.complete) void reply.header('connection', 'close');
    return reply.code(api.status).headers(api.headers).send({ error: api.code, message: api.message });
  });
  app.setNotFoundHandler(async (request, reply) => {
    metrics.rejected.inc({ reason: 'not_found' });
    request.log.warn({ event: 'request.rejected', reason: 'not_found', status: 404 }, `no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(ERROR_STATUS.not_found).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  healthRoutes(app, deps);
  metricsRoute(app, deps);
  analyzeRoute(app, deps, reportError);
  await app.register(pageRoutes);
  return app;
}
