import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export interface UploadWatch {
  /** Rejects with the API error when the upload stops moving; never resolves. */
  readonly failed: Promise<never>;
  /** The reader took a piece of the upload. */
  progress(): void;
  stop(): void;
}

/**
 * Watches an upload being read so every request ends:
 * - no byte arriving for `idleMs` while the body is incomplete → 408 `request_timeout`;
 * - the whole body received (or held back by the parser) but the multipart reader getting nothing
 *   more for `settleMs` → 400 `malformed_multipart`. @fastify/busboy can stall there: a part it skips (no valid
 *   Content-Disposition, e.g. a line break in its file name) that it paused for backpressure and
 *   that ends after the closing boundary never releases the parser, and no event follows.
 */
export function watchUpload(raw: IncomingMessage, idleMs: number, settleMs = 2000): UploadWatch {
  let lastMove = performance.now();
  let lastBytes = raw.socket?.bytesRead;
  let reject: (err: ApiError) => void = () => {};
  const failed = new Promise<never>((_, r) => (reject = r));
  failed.catch(() => {}); // raced by the caller; never an unhandled rejection
  const timer = setInterval(
    () => {
      const bytes = raw.socket?.bytesRead;
      if (typeof bytes === 'number' && bytes !== lastBytes) {
        lastBytes = bytes;
        lastMove = performance.now();
      }
      const still = performance.now() - lastMove;
      // complete: Node's parser has the whole message; readableEnded: the body has been read to its end.
      const received = raw.complete || raw.readableEnded;
      // Paused: the multipart parser pushes back and the reader takes nothing, so it is not waiting for the client.
      const heldBack = raw.readableFlowing === false;
      // Either way nothing waits for the client: the parser is stuck, not the upload.
      const parserStuck = received || heldBack;
      if (parserStuck && still > settleMs) {
        clearInterval(timer);
        reject(
          new ApiError(
            'malformed_multipart',
            'the multipart form could not be read to its end: a part without a valid Content-Disposition header (for example a line break in its file name) cannot be read',
          ),
        );
      } else if (!parserStuck && still > idleMs) {
        clearInterval(timer);
        reject(new ApiError('request_timeout', `no upload data arrived for ${Math.round(idleMs / 1000)} s`));
      }
    },
    Math.min(250, settleMs / 4, idleMs / 4),
  );
  return {
    failed,
    progress: () => {
      lastMove = performance.now();
    },
    stop: () => clearInterval(timer),
  };
}
