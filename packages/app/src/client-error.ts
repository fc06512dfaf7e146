import crypto from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_STATUS, type ErrorCode } from './errors.js';
import type { Metrics } from './metrics.js';

/** What Node's HTTP parser refused before any route saw the request, as the API's error. */
function describe(err: NodeJS.ErrnoException): { code: ErrorCode; message: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'request_timeout', message: 'the request was not received in time' };
  if (err.code === 'HPE_HEADER_OVERFLOW') return { code: 'headers_too_large', message: 'the request headers are larger than the server accepts' };
  return { code: 'bad_request', message: `the request could not be parsed as HTTP (${err.code ?? err.message})` };
}

/**
 * Fastify's clientErrorHandler: answers what Node's HTTP parser refused (headers too large, a
 * request not received within the timeouts, malformed HTTP) with the API's JSON error, and writes
 * a `request.rejected` record with a request id of its own, since no route and no Fastify request
 * exists for it. A connection the client reset has nothing to answer and is not logged as an error.
 */
export function clientErrorHandler(log: FastifyBaseLogger, metrics: Metrics): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) {
      log.debug({ event: 'connection.reset', error_code: err.code }, 'the client closed the connection');
      return;
    }
    const { code, message } = describe(err);
    const status = ERROR_STATUS[code];
    const requestId = crypto.randomUUID();
    metrics.rejected.inc({ reason: code });
    log.warn({ event: 'request.rejected', request_id: requestId, reason: code, status, error_code: err.code }, message);
    if (socket.writable) {
      const body = JSON.stringify({ error: code, message });
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nX-Request-Id: ${requestId}\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
