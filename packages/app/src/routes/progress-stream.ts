import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ProgressEvent, Stage } from '../analysis/types.js';
import type { ApiError } from '../errors.js';

/**
 * `POST /api/analyze` with `Accept: text/event-stream`: the same request answers with server-sent
 * events — `accepted` once the upload is read, `progress` per stage, then `result` (the JSON body
 * the plain request answers) or `error` (`{ error, message, status, retry_after_seconds? }`).
 * Everything travels on the one request, so it works behind any load balancer: no second request
 * has to reach the pod that holds the analysis.
 *
 * Refusals found before the upload has been read (not multipart, too large, queue full, shutting
 * down) keep their HTTP status and JSON body: the stream only opens once there is something to
 * analyse.
 */

/** The stages a full analysis reports, in the order a one-thread analysis runs them. */
export const ANALYSIS_STAGES = ['decode', 'resample', 'loudness', 'onsets', 'rhythm', 'key', 'tuning', 'notes', 'meter', 'chords'] as const satisfies readonly Stage[];

/** An SSE comment this often keeps proxies from closing a connection that waits on a long stage. */
const KEEPALIVE_MS = 10_000;

export function wantsEventStream(request: FastifyRequest): boolean {
  return /\btext\/event-stream\b/i.test(request.headers.accept ?? '');
}

function sseMessage(event: string, data: unknown): string {
  // JSON never contains a raw newline, so one `data:` line carries it.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const COUNTED: ReadonlySet<Stage> = new Set(ANALYSIS_STAGES);

/** One request's event stream. */
export class ProgressStream {
  private readonly body = new PassThrough();
  private readonly done = new Set<Stage>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(reply: FastifyReply, accepted: Record<string, unknown>) {
    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      // nginx-style proxies (e.g. an ingress) buffer responses unless told not to.
      .header('x-accel-buffering', 'no')
      .send(this.body);
    this.keepalive = setInterval(() => this.write(': keep-alive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
    this.write(sseMessage('accepted', { ...accepted, stages: ANALYSIS_STAGES }));
  }

  /** A worker progress event, as the client's `progress` event: which stage, and how far along. */
  progress(event: ProgressEvent): void {
    let message: Record<string, unknown>;
    if (event.type === 'stage') {
      message = { stage: event.stage, phase: 'start' };
    } else if (event.type === 'decoded') {
      this.done.add('decode');
      message = { stage: 'decode', phase: 'end', ms: event.decodeMs, audio_seconds: Number(event.durationSeconds.toFixed(3)), format: event.format };
    } else if (event.type === 'algorithm') {
      // A stage outside the list is reported, but not counted: `completed` never passes `total`.
      if (COUNTED.has(event.stage)) this.done.add(event.stage);
      message = { stage: event.stage, phase: 'end', ms: event.ms };
    } else {
      return; // the memory guard's verdict is the service's business (its log), not the client's
    }
    const completed = this.done.size;
    const total = ANALYSIS_STAGES.length;
    this.write(sseMessage('progress', { ...message, completed, total, percent: Math.round((100 * completed) / total) }));
  }

  /** The analysis, as the JSON text the plain request would answer. */
  result(json: string): void {
    this.end(`event: result\ndata: ${json}\n\n`);
  }

  error(api: ApiError): void {
    const retry = Number(api.headers['Retry-After']);
    const data = { error: api.code, message: api.message, status: api.status, ...(Number.isFinite(retry) ? { retry_after_seconds: retry } : {}) };
    this.end(sseMessage('error', data));
  }

  private write(text: string): void {
    if (!this.body.destroyed && this.body.writable) this.body.write(text);
  }

  private end(text: string): void {
    clearInterval(this.keepalive);
    this.write(text);
    if (!this.body.destroyed) this.body.end();
  }
}

const streams = new WeakMap<FastifyRequest, ProgressStream>();

/** Opens the event stream (once the upload is read) if the client asked for one; null otherwise. */
export function openProgressStream(request: FastifyRequest, reply: FastifyReply, accepted: Record<string, unknown>): ProgressStream | null {
  if (!wantsEventStream(request)) return null;
  const stream = new ProgressStream(reply, accepted);
  streams.set(request, stream);
  return stream;
}

/** Resolves (to nothing to send: the stream is the answer) once the response ended, or the client went away. */
async function untilSent(reply: FastifyReply): Promise<undefined> {
  await finished(reply.raw).catch(() => {});
  return undefined;
}

/** The body as the JSON answer would carry it: serialized by the route's 200 schema, as Fastify does. */
function serialize200(reply: FastifyReply, body: unknown): string {
  const fn = reply.getSerializationFunction('200', 'application/json');
  return typeof fn === 'function' ? fn(body as Record<string, unknown>) : JSON.stringify(body);
}

/**
 * Wraps the analysis handler: once its stream is open, the handler's answer becomes the `result`
 * event and its error (mapped, counted and logged by `report`, as the error handler does) the
 * `error` event. Before that, answers and errors go out as usual.
 */
export function withProgressStream(handler: RouteHandlerMethod, report: (request: FastifyRequest, err: unknown) => ApiError): RouteHandlerMethod {
  return async function (this: FastifyInstance, request, reply) {
    let body: unknown;
    try {
      body = await handler.call(this, request, reply);
    } catch (err) {
      const stream = streams.get(request);
      if (!stream) throw err;
      stream.error(report(request, err));
      return untilSent(reply);
    }
    const stream = streams.get(request);
    if (!stream) return body;
    stream.result(serialize200(reply, body));
    return untilSent(reply);
  };
}
