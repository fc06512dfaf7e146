import { errorBodySchema } from '../errors.js';

/** JSON Schemas of the API's answers: they document the API (OpenAPI at /docs) and serialize the replies. */

const num = { type: 'number' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const numbers = { type: 'array', items: num } as const;

export const analysisResponseSchema = {
  type: 'object',
  description: 'The analysis of one recording.',
  required: ['request_id', 'file', 'audio', 'tempo', 'key', 'tuning', 'notes', 'onsets', 'loudness', 'chords', 'processing'],
  properties: {
    request_id: { type: 'string' },
    file: {
      type: 'object',
      properties: { name: { type: 'string', description: 'the client file name, sanitized' }, size_mb: num, content_type: { type: 'string' } },
    },
    audio: {
      type: 'object',
      properties: {
        format: { type: 'string', enum: ['wav', 'mp3', 'flac', 'ogg'] },
        duration_seconds: num,
        sample_rate: { type: 'integer', description: 'of the upload' },
        channels: { type: 'integer', description: 'of the upload (analysed as their average)' },
        analysis_sample_rate: { type: 'integer' },
        silent: { type: 'boolean' },
      },
    },
    tempo: {
      type: 'object',
      properties: {
        bpm: { ...nullableNumber, description: 'null when no beat was found (e.g. silence)' },
        confidence: { type: 'number', description: '0–1: share of beat intervals within 5 % of the median' },
        beats: { ...numbers, description: 'beat times, seconds (the phase fitted to the played onsets)' },
        candidates: {
          type: 'array',
          description: 'the reported tempo, half and double it, with how much the evidence favoured each (confidences sum to 1): where the beat is ambiguous, the other reading is said here',
          items: {
            type: 'object',
            properties: { bpm: num, confidence: num, relation: { type: 'string', enum: ['reported', 'half', 'double'] } },
          },
        },
      },
    },
    key: {
      type: ['object', 'null'],
      properties: {
        tonic: { type: 'string' },
        scale: { type: 'string' },
        name: { type: 'string' },
        strength: num,
        alternatives: { type: 'array', items: { type: 'string' }, description: 'the next most likely keys, best first (often the relative or parallel key)' },
        candidates: {
          type: 'array',
          description: 'the reported key and the next readings with their confidences (0–1), best first',
          items: { type: 'object', properties: { name: { type: 'string' }, confidence: num } },
        },
      },
    },
    tuning: {
      type: ['object', 'null'],
      properties: { frequency_hz: { type: 'number', description: 'the A4 the guitar is tuned to' }, cents_from_a440: num },
    },
    notes: {
      type: 'array',
      description: 'the pitch track reduced to notes in the guitar range E2–E6',
      items: {
        type: 'object',
        properties: { onset: num, duration: num, midi: { type: 'integer' }, name: { type: 'string' }, frequency_hz: num, confidence: num },
      },
    },
    onsets: {
      type: 'object',
      properties: {
        times: numbers,
        rate_per_second: num,
        timing: {
          type: ['object', 'null'],
          description: 'how far onsets sit from the beat grid (eighth notes)',
          properties: { mean_offset_ms: num, median_offset_ms: num, within_30ms_ratio: num, steadiness: num },
        },
      },
    },
    loudness: {
      type: 'object',
      properties: {
        window_seconds: num,
        rms_db: { ...numbers, description: 'level per window, dBFS' },
        mean_db: nullableNumber,
        range_db: { ...nullableNumber, description: '95th minus 5th percentile of the audible windows' },
        dynamic_complexity: nullableNumber,
      },
    },
    chords: {
      type: 'array',
      items: { type: 'object', properties: { start: num, end: num, chord: { type: 'string' }, strength: num } },
    },
    processing: {
      type: 'object',
      properties: {
        decode_ms: num,
        algorithms_ms: { type: 'object', additionalProperties: num },
        worker_ms: num,
        queue_ms: num,
        total_ms: num,
        peak_rss_mb: num,
        wasm_heap_mb: num,
      },
    },
  },
} as const;

export const errorResponses = {
  400: errorBodySchema,
  408: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  500: errorBodySchema,
  503: errorBodySchema,
  507: errorBodySchema,
} as const;

export const healthResponseSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'shutting_down'] },
    ready: { type: 'boolean' },
    instance_id: { type: 'string' },
    version: { type: 'string' },
    uptime_seconds: num,
    analyses_in_flight: { type: 'integer' },
    queue_length: { type: 'integer' },
    queue_max: { type: 'integer' },
    workers: { type: 'integer' },
    memory: { type: 'object', properties: { rss_mb: num, limit_mb: nullableNumber, usage_ratio: nullableNumber } },
    logging: { type: 'object', properties: { write_failures: { type: 'integer' }, lines_dropped: { type: 'integer' }, pending_bytes: { type: 'integer' } } },
    previous_crash: {
      type: ['object', 'null'],
      description: 'shown for PREVIOUS_CRASH_VISIBLE_MINUTES after a start that found the previous run crashed (the crash.detected record)',
      additionalProperties: true,
    },
  },
} as const;

/** `POST /api/analyze` with `Accept: text/event-stream` (see routes/progress-stream.ts). */
export const analysisEventStreamSchema = {
  type: 'string',
  description:
    'Server-sent events, in this order: `accepted` `{ request_id, file, stages }` once the upload is read; ' +
    '`progress` `{ stage, phase: "start"|"end", ms?, completed, total, percent }` as each stage (decode, resample, loudness, rhythm, onsets, key, notes, chords) starts and ends — ' +
    'a long recording runs some at once, and percent is the share of stages done; then either `result` (the JSON answer, as without this header) ' +
    'or `error` `{ error, message, status, retry_after_seconds? }` (the error and status the plain request would have answered). ' +
    'A `: keep-alive` comment every 10 s while a stage runs.',
  example:
    'event: accepted\ndata: {"request_id":"…","file":{"name":"take.wav","size_mb":2.52},"stages":["decode","resample","loudness","rhythm","onsets","key","notes","chords"]}\n\n' +
    'event: progress\ndata: {"stage":"rhythm","phase":"end","ms":761,"completed":4,"total":8,"percent":50}\n\n' +
    'event: result\ndata: {"request_id":"…","tempo":{"bpm":120.01,…},…}\n\n',
} as const;
