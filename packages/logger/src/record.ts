import { LOG_LEVELS, type LogLevel } from './settings.js';

/**
 * One line of the log file. Fields beyond these are context: numbers stay numbers, strings are
 * redacted and bounded, nested objects are allowed.
 */
export interface LogRecord {
  /** ISO-8601 UTC with milliseconds, always with the fraction: 2026-11-21T18:00:00.123Z */
  time: string;
  level: LogLevel;
  message: string;
  service: string;
  /** Set on module child loggers (`logger.child({ module: 'analysis' })`). */
  module?: string;
  /** The run of the process that wrote the line. */
  instance_id?: string;
  pid?: number;
  hostname?: string;
  /** Name of the event, e.g. `analysis.start`, `memory.pressure`. */
  event?: string;
  request_id?: string;
  file_name?: string;
  file_size_mb?: number;
  duration_ms?: number;
  rss_mb?: number;
  /** A serialized error with its stack and cause chain. */
  error?: SerializedError;
  /** Present when a line was cut down to fit the maximum line size. */
  truncated?: boolean;
  [context: string]: unknown;
}

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  code?: string | number;
  cause?: SerializedError | unknown;
  errors?: unknown[];
  [extra: string]: unknown;
}

const serializedError = {
  type: 'object',
  required: ['type', 'message'],
  properties: {
    type: { type: 'string' },
    message: { type: 'string' },
    stack: { type: 'string' },
    code: { type: ['string', 'number'] },
    cause: {},
    errors: { type: 'array' },
  },
} as const;

/** JSON Schema (draft 2020-12) of one log line. */
export const logRecordJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://guitar-backend.local/schemas/log-record.json',
  title: 'guitar-backend log record',
  description: 'One line of the JSON-lines log the service writes and the Fluent Bit sidecar ships.',
  type: 'object',
  required: ['time', 'level', 'message', 'service'],
  properties: {
    time: {
      type: 'string',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
      description: 'ISO-8601 UTC with milliseconds; parsed by Fluent Bit with %Y-%m-%dT%H:%M:%S.%L%z',
    },
    level: { type: 'string', enum: [...LOG_LEVELS] },
    message: { type: 'string' },
    service: { type: 'string', minLength: 1 },
    module: { type: 'string' },
    instance_id: { type: 'string' },
    pid: { type: 'integer' },
    hostname: { type: 'string' },
    event: { type: 'string' },
    request_id: { type: 'string' },
    file_name: { type: 'string' },
    file_size_mb: { type: 'number' },
    duration_ms: { type: 'number' },
    rss_mb: { type: 'number' },
    error: serializedError,
    truncated: { type: 'boolean' },
  },
  additionalProperties: true,
} as const;
