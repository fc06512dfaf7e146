/**
 * Every error the API answers with: a code, its HTTP status, and a message for the client.
 * Routes throw ApiError; one error handler (server.ts) turns it into `{ error, message }`.
 */

export const ERROR_STATUS = {
  not_multipart: 415,
  malformed_multipart: 400,
  too_many_parts: 400,
  missing_file: 400,
  too_many_files: 400,
  empty_file: 400,
  file_too_large: 413,
  unsupported_format: 415,
  corrupt_audio: 422,
  audio_too_long: 422,
  queue_full: 503,
  shutting_down: 503,
  analysis_out_of_memory: 507,
  insufficient_memory: 507,
  analysis_failed: 500,
  not_found: 404,
  request_timeout: 408,
  headers_too_large: 431,
  bad_request: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

export const errorBodySchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: Object.keys(ERROR_STATUS) },
    message: { type: 'string' },
  },
} as const;
