/**
 * Talks to `POST /api/analyze` for the page: one XMLHttpRequest (fetch reports no upload progress)
 * that asks for server-sent events, so upload progress, stage progress and the answer all arrive on
 * the one request — whichever replica it reached.
 */
import { SseParser } from './sse.js';
import type { Analysis, ApiErrorBody, Hints, ProgressMessage } from './types.js';

export interface AnalyseCallbacks {
  onUpload(sentBytes: number, totalBytes: number): void;
  /** The upload is read; analysis waits for a worker. */
  onAccepted(stages: string[]): void;
  onProgress(message: ProgressMessage): void;
}

export type Outcome =
  | { ok: true; analysis: Analysis }
  | { ok: false; error: ApiErrorBody; status: number; retryAfterSeconds: number | null };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as ApiErrorBody).error === 'string';
}

function retryAfter(value: string | null | undefined): number | null {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? n : null;
}

/** A code for an answer that is not the API's JSON, from its status alone. */
function codeForStatus(status: number): string {
  if (status === 200) return 'stream_cut';
  if (status === 413) return 'file_too_large';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'unexpected_answer';
}

export function analyseTake(file: File, hints: Hints, callbacks: AnalyseCallbacks): Promise<Outcome> {
  const form = new FormData();
  form.append('file', file, file.name);
  // The hints travel as the API's query parameters (`bpm`, `key`), read before the upload is.
  const query = new URLSearchParams();
  if (hints.tempoBpm !== null) query.set('bpm', String(hints.tempoBpm));
  if (hints.key) query.set('key', hints.key);
  const url = query.size > 0 ? `/api/analyze?${query.toString()}` : '/api/analyze';

  return new Promise<Outcome>((resolve) => {
    const xhr = new XMLHttpRequest();
    const parser = new SseParser();
    let seen = 0;
    let settled: Outcome | null = null;
    const settle = (outcome: Outcome) => {
      if (!settled) {
        settled = outcome;
        resolve(outcome);
      }
    };
    const isStream = () => (xhr.getResponseHeader('content-type') ?? '').startsWith('text/event-stream');
    const readEvents = () => {
      if (xhr.status !== 200 || !isStream()) return;
      const text = xhr.responseText;
      const fresh = text.slice(seen);
      seen = text.length;
      for (const { event, data } of parser.push(fresh)) {
        const body = parseJson(data);
        if (event === 'accepted') callbacks.onAccepted((body as { stages?: string[] } | null)?.stages ?? []);
        else if (event === 'progress' && body) callbacks.onProgress(body as ProgressMessage);
        else if (event === 'result' && body) settle({ ok: true, analysis: body as Analysis });
        else if (event === 'error' && isErrorBody(body)) {
          const b = body as ApiErrorBody & { status?: number; retry_after_seconds?: number };
          settle({ ok: false, error: b, status: b.status ?? 500, retryAfterSeconds: retryAfter(String(b.retry_after_seconds ?? '')) });
        }
      }
    };

    xhr.upload.addEventListener('progress', (e) => callbacks.onUpload(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.upload.addEventListener('load', () => callbacks.onUpload(file.size, file.size));
    xhr.addEventListener('progress', readEvents);
    xhr.addEventListener('load', () => {
      readEvents();
      if (settled) return;
      const body = parseJson(xhr.responseText);
      if (xhr.status === 200 && !isStream() && body) return settle({ ok: true, analysis: body as Analysis });
      if (isErrorBody(body)) {
        return settle({ ok: false, error: body, status: xhr.status, retryAfterSeconds: retryAfter(xhr.getResponseHeader('retry-after')) });
      }
      // Not the service's own answer (e.g. a proxy's page in front of it): judged by its status.
      settle({ ok: false, error: { error: codeForStatus(xhr.status), message: `HTTP ${xhr.status}` }, status: xhr.status, retryAfterSeconds: retryAfter(xhr.getResponseHeader('retry-after')) });
    });
    xhr.addEventListener('error', () => settle({ ok: false, error: { error: 'network', message: 'the request failed' }, status: 0, retryAfterSeconds: null }));
    xhr.addEventListener('abort', () => settle({ ok: false, error: { error: 'aborted', message: 'cancelled' }, status: 0, retryAfterSeconds: null }));

    xhr.open('POST', url);
    xhr.setRequestHeader('Accept', 'text/event-stream, application/json;q=0.5');
    xhr.send(form);
  });
}
