/**
 * Upload memory benchmark: does the service's RSS come back after uploads, refused or analysed?
 * Runs the real service as its own process (RSS from /api/health), twice side by side — with the
 * malloc setting the image runs it with (MALLOC_ENV), and with glibc's defaults — and prints RSS
 * after each phase as a ratio of the idle RSS (not a timed test; figures vary with the machine):
 *  - BENCH_UPLOADS refused uploads of 48 MB over a 32 MB limit (413 from Content-Length);
 *  - BENCH_UPLOADS refused uploads of 48 MB sent chunked (413 when the file crosses the limit);
 *  - BENCH_UPLOADS uploads of 16 MB that are not audio (read whole, 415 from the worker);
 *  - BENCH_UPLOADS three-minute WAV recordings analysed (200);
 *  - then 60 s idle (workers idle for 30 s end).
 *
 *   pnpm bench:upload-memory                 (BENCH_UPLOADS=20; BENCH_BASELINE=other/dist/src/main.js adds a build to compare)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSongWav } from '../src/index.js';
import { startServiceProcess } from '../test/helpers.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20);
const MB = 1024 * 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-memory-bench-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const take = path.join(dir, 'take-180s.wav');
writeSongWav(take, { seconds: 180, style: 'full' });
const takeBytes = fs.readFileSync(take);
const noise = Buffer.alloc(16 * MB, 0x5a);
const tooLarge = Buffer.alloc(48 * MB, 0x5a);

async function post(base: string, body: RequestInit['body'], headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${base}/api/analyze`, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

function form(bytes: Buffer, name: string): FormData {
  const f = new FormData();
  f.append('file', new Blob([bytes]), name);
  return f;
}

/** A multipart body sent chunked (no Content-Length), in 64 KB pieces. */
function chunked(bytes: Buffer): { body: ReadableStream<Uint8Array>; headers: Record<string, string> } {
  const head = Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n');
  const tail = Buffer.from('\r\n--B--\r\n');
  let at = 0;
  const all = [head, bytes, tail];
  let part = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const current = all[part];
      if (!current) return controller.close();
      const piece = current.subarray(at, at + 64 * 1024);
      at += piece.length;
      if (at >= current.length) {
        part++;
        at = 0;
      }
      controller.enqueue(piece);
    },
  });
  return { body, headers: { 'content-type': 'multipart/form-data; boundary=B' } };
}

async function measure(label: string, env: Record<string, string>, script?: string): Promise<Array<{ phase: string; rss: number }>> {
  const service = startServiceProcess({ LOG_DIR: path.join(dir, `logs-${label}`), MAX_UPLOAD_MB: '32', ANALYSIS_WORKERS: '1', ...env }, script);
  const base = await service.url;
  const rss = async (): Promise<number> => {
    await sleep(3000); // retired workers exit, freed memory is unmapped
    return ((await (await fetch(`${base}/api/health`)).json()) as { memory: { rss_mb: number } }).memory.rss_mb;
  };
  const rows = [{ phase: 'idle', rss: await rss() }];
  const phase = async (name: string, expected: number, send: () => Promise<number>): Promise<void> => {
    for (let i = 0; i < UPLOADS; i++) {
      const status = await send().catch(() => expected); // the server may close the connection while the client sends
      if (status !== expected) throw new Error(`${name}: ${status}, expected ${expected}`);
    }
    rows.push({ phase: name, rss: await rss() });
  };
  await phase(`${UPLOADS} × 48 MB, Content-Length over the limit (413)`, 413, () => post(base, form(tooLarge, 'big.wav')));
  await phase(`${UPLOADS} × 48 MB chunked, over the limit (413)`, 413, () => {
    const c = chunked(tooLarge);
    return post(base, c.body, c.headers);
  });
  await phase(`${UPLOADS} × 16 MB not audio, read whole (415)`, 415, () => post(base, form(noise, 'noise.wav')));
  await phase(`${UPLOADS} × 3-minute WAV analysed (200)`, 200, () => post(base, form(takeBytes, 'take.wav')));
  await sleep(57_000);
  rows.push({ phase: '60 s later, idle', rss: await rss() });
  service.child.kill('SIGTERM');
  await service.exited;
  return rows;
}

/**
 * The variants measured side by side: this build, this build with glibc's malloc arenas capped, and
 * (BENCH_BASELINE=path/to/dist/src/main.js) another build of the service, e.g. the previous commit's.
 */
const VARIANTS: Array<{ label: string; env: Record<string, string>; script?: string }> = [
  { label: 'as the image runs it', env: { ...MALLOC_ENV } },
  { label: 'glibc defaults', env: {} },
  ...(process.env.BENCH_BASELINE ? [{ label: 'baseline', env: {}, script: process.env.BENCH_BASELINE }] : []),
];

console.log(`\nUpload memory — Node ${process.version}, ${os.cpus().length} CPUs, 1 worker; RSS of the service process, 3 s after each phase\n`);
const results: Array<Array<{ phase: string; rss: number }>> = [];
for (const v of VARIANTS) {
  const rows = await measure(v.label.replace(/[^A-Za-z0-9]+/g, '-'), v.env, v.script);
  console.log(`${v.label}: ${rows.map((r) => `${r.rss.toFixed(0)} MB`).join(', ')}`);
  results.push(rows);
}
console.log('');
console.log(`| after | ${VARIANTS.map((v) => `RSS MB (${v.label}) | × idle`).join(' | ')} |`);
console.log(`|---|${VARIANTS.map(() => '---:|---:').join('|')}|`);
(results[0] ?? []).forEach((row, i) => {
  const cells = results.map((rows) => {
    const r = rows[i];
    const idle = rows[0]?.rss ?? NaN;
    return r ? `${r.rss.toFixed(0)} | ${(r.rss / idle).toFixed(2)}` : '– | –';
  });
  console.log(`| ${row.phase} | ${cells.join(' | ')} |`);
});
fs.rmSync(dir, { recursive: true, force: true });
