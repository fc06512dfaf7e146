import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readLogRecords, startServiceProcess, tempDir, type ServiceProcess } from './helpers.js';

/**
 * Every request ends, over real sockets against the service in its own process: bodies that stall
 * the multipart parser, uploads that stop, slow headers, too-large uploads (answered as soon as the
 * limit is crossed), oversized headers, unknown routes and clients that go away — each with an
 * answer and a log record carrying a request id.
 */

let svc: ServiceProcess;
let host = '';
let port = 0;
let logDir = '';
before(async () => {
  logDir = tempDir('app-http-');
  svc = startServiceProcess({ LOG_DIR: logDir, MAX_UPLOAD_MB: '1', UPLOAD_IDLE_SECONDS: '1', HEADERS_TIMEOUT_SECONDS: '1', REQUEST_TIMEOUT_SECONDS: '20' });
  const url = new URL(await svc.url);
  host = url.hostname;
  port = Number(url.port);
});
after(async () => {
  svc.child.kill('SIGTERM');
  await svc.exited;
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting to the complete answer. */
  ms: number;
  /** The server closed the connection after answering. */
  closed: Promise<boolean>;
}

/**
 * Sends `write(socket)`'s bytes on a raw connection and resolves with the first complete HTTP
 * answer; rejects if none comes within `timeoutMs`.
 */
function raw(write: (socket: net.Socket) => void | Promise<void>, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, host);
    let data = Buffer.alloc(0);
    let done = false;
    const closed = new Promise<boolean>((r) => {
      socket.on('close', () => r(true));
      setTimeout(() => r(false), 5000).unref();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (got ${JSON.stringify(data.toString('latin1').slice(0, 200))})`));
    }, timeoutMs);
    socket.on('error', () => {}); // a reset after the answer is expected when the server closes early
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const end = data.indexOf('\r\n\r\n');
      if (done || end < 0) return;
      const head = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return;
      done = true;
      clearTimeout(timer);
      resolve({
        status: Number(head[0]?.split(' ')[1]),
        headers,
        body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
        ms: performance.now() - started,
        closed,
      });
    });
    socket.on('connect', () => {
      void Promise.resolve(write(socket)).catch(() => {});
    });
  });
}

function records(): Array<Record<string, any>> {
  return readLogRecords(logDir, { skipCutLines: true });
}

function head(contentType: string, contentLength?: number, extra = ''): string {
  const length = contentLength === undefined ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${contentLength}\r\n`;
  return `POST /api/analyze HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\n${length}${extra}\r\n`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `size` bytes that start as a WAV file does: a file whose first bytes are not audio is refused (415) before these limits matter. */
function audioLike(size: number, fill = 0): Buffer {
  const b = Buffer.alloc(size, fill);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(Math.max(0, size - 8), 4);
  b.write('WAVEfmt ', 8, 'latin1');
  return b;
}

test('multipart parts the parser skips (line break in the file name, no Content-Disposition) never leave a request unanswered', async () => {
  const dispositions = [
    'Content-Disposition: form-data; name="file"; filename="a\nb.wav"\r\n',
    "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%0Ab.wav\r\n",
    '',
  ];
  for (const disposition of dispositions) {
    for (const size of [30_000, 50_000, 65_000, 100_000]) {
      const body = Buffer.concat([Buffer.from(`--XYZ\r\n${disposition}Content-Type: audio/wav\r\n\r\n`), Buffer.alloc(size), Buffer.from('\r\n--XYZ--\r\n')]);
      const res = await raw((s) => {
        s.write(head('multipart/form-data; boundary=XYZ', body.length));
        s.write(body);
      });
      assert.equal(res.status, 400, `${JSON.stringify(disposition)} ${size}: ${res.body}`);
      assert.ok(['missing_file', 'malformed_multipart'].includes((JSON.parse(res.body) as { error: string }).error), res.body);
    }
  }
});

test('an upload that stops arriving is ended with 408 after UPLOAD_IDLE_SECONDS, and the connection closed', async () => {
  const res = await raw((s) => {
    s.write(head('multipart/form-data; boundary=XYZ', 500_000));
    s.write('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n');
    s.write(audioLike(20_000));
  });
  assert.equal(res.status, 408, res.body);
  assert.equal((JSON.parse(res.body) as { error: string }).error, 'request_timeout');
  assert.ok(await res.closed, 'the server closes the connection');
  assert.ok(records().some((r) => r.event === 'request.rejected' && r.reason === 'request_timeout' && r.request_id));
});

test('headers that never finish: 408 JSON after HEADERS_TIMEOUT_SECONDS, with a request.rejected record and a request id', async () => {
  const res = await raw((s) => {
    s.write(`POST /api/analyze HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
  });
  assert.equal(res.status, 408, res.body);
  assert.equal((JSON.parse(res.body) as { error: string }).error, 'request_timeout');
  assert.ok(res.headers['x-request-id']);
  const rec = records().find((r) => r.event === 'request.rejected' && r.request_id === res.headers['x-request-id']);
  assert.equal(rec?.reason, 'request_timeout');
});

test('a Content-Length over the limit is answered 413 before any body is sent, and the connection closed', async () => {
  const res = await raw((s) => {
    s.write(head('multipart/form-data; boundary=XYZ', 300 * 1024 * 1024));
  });
  assert.equal(res.status, 413, res.body);
  assert.match(res.body, /"error":"file_too_large"/);
  assert.ok(await res.closed, 'the server closes the connection');
});

test('a chunked upload over the limit is answered 413 as soon as the limit is crossed, not after the whole body', async () => {
  let sent = 0;
  let answered = false;
  const total = 64 * 1024 * 1024;
  const res = await raw(async (s) => {
    s.write(head('multipart/form-data; boundary=XYZ'));
    const part = Buffer.from('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n');
    s.write(`${part.length.toString(16)}\r\n`);
    s.write(part);
    s.write('\r\n');
    let piece = audioLike(64 * 1024, 1);
    while (sent < total && !answered && !s.destroyed) {
      s.write(`${piece.length.toString(16)}\r\n`);
      s.write(piece);
      s.write('\r\n');
      sent += piece.length;
      piece = Buffer.alloc(64 * 1024, 1);
      await sleep(2);
    }
  }, 30_000);
  answered = true;
  assert.equal(res.status, 413, res.body);
  assert.ok(sent < total / 4, `answered after ${sent} of ${total} bytes`);
  assert.ok(await res.closed, 'the server closes the connection');
});

test('oversized headers: 431 JSON with a request.rejected record and a request id', async () => {
  const res = await raw((s) => {
    s.write(`GET /api/health HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  });
  assert.equal(res.status, 431, res.body);
  assert.equal((JSON.parse(res.body) as { error: string }).error, 'headers_too_large');
  const rec = records().find((r) => r.event === 'request.rejected' && r.request_id === res.headers['x-request-id']);
  assert.equal(rec?.reason, 'headers_too_large');
});

test('an unknown route: 404 with a request.rejected record carrying the request id', async () => {
  const res = await fetch(`http://${host}:${port}/no/such/route?x=1`);
  assert.equal(res.status, 404);
  await res.text();
  const rec = records().filter((r) => r.event === 'request.rejected' && r.reason === 'not_found').at(-1);
  assert.ok(rec?.request_id, 'the record has a request id');
  assert.equal(rec?.level, 'warn');
});

test('a client that goes away mid-upload is logged as info, never as an error; the service carries on', async () => {
  const errorsBefore = records().filter((r) => r.level === 'error').length;
  await new Promise<void>((resolve) => {
    const s = net.connect(port, host, () => {
      s.write(head('multipart/form-data; boundary=XYZ', 400_000));
      s.write('--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n');
      s.write(audioLike(50_000), () => setTimeout(() => s.destroy(), 100));
    });
    s.on('close', () => resolve());
    s.on('error', () => {});
  });
  await sleep(500);
  const aborted = records().filter((r) => r.event === 'request.aborted');
  assert.ok(aborted.length >= 1, 'a request.aborted record');
  assert.equal(aborted.at(-1)?.level, 'info');
  assert.equal(records().filter((r) => r.level === 'error').length, errorsBefore, 'no error record');
  assert.equal((await fetch(`http://${host}:${port}/api/health`)).status, 200);
});

test('SIGTERM with an upload that stays open: the grace period ends it, service.stop is written, exit 0', async () => {
  const dir = tempDir('app-http-stop-');
  const other = startServiceProcess({ LOG_DIR: dir, UPLOAD_IDLE_SECONDS: '600', SHUTDOWN_GRACE_SECONDS: '1' });
  const url = new URL(await other.url);
  const s = net.connect(Number(url.port), url.hostname);
  s.on('error', () => {});
  await new Promise<void>((r) => s.on('connect', () => r()));
  s.write(`POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 900000\r\n\r\n--XYZ\r\n`);
  await sleep(300);
  const started = performance.now();
  other.child.kill('SIGTERM');
  assert.equal(await other.exited, 0);
  assert.ok(performance.now() - started < 10_000, `stopped after ${Math.round(performance.now() - started)} ms`);
  s.destroy();
  assert.equal(readLogRecords(dir).at(-1)?.event, 'service.stop');
});
