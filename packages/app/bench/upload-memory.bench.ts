/**
 * Upload memory benchmark: does the service's RSS come back after uploads, refused or analysed?
 * Runs the real service as its own process (RSS from /api/health) side by side: as the image runs
 * it (NODE_FLAGS, MALLOC_ENV), without the idle collection (no --expose-gc), with glibc's malloc
 * defaults, and optionally other malloc settings or another build (run as the image ran it then). Prints RSS 3 s after each phase and 60 s after
 * the last, as a ratio of the RSS before the first upload (not a timed test; figures vary with the
 * machine). Phases (BENCH_ORDER picks and orders them; each runs BENCH_UPLOADS uploads):
 *  - length: 48 MB over a 32 MB limit, refused from Content-Length (413);
 *  - chunked: 48 MB sent chunked, starting as a WAV file, refused when it crosses the limit (413);
 *  - noise: 16 MB that is not audio (415, from its first bytes);
 *  - corrupt: 16 MB FLAC whose frames are garbage (read whole, decoded, 422);
 *  - lying: 16 KB MS-ADPCM WAV claiming 65,535 samples per 1-byte block (422 before decoding);
 *  - analysed: three-minute WAV recordings (200).
 *
 *   pnpm bench:upload-memory      (BENCH_UPLOADS=20, BENCH_ORDER=length,chunked,noise,corrupt,lying,analysed,
 *                                  BENCH_VARIANTS=image,no-idle-collection,glibc-defaults,
 *                                  BENCH_MMAP_THRESHOLDS=65536,16384 adds variants, BENCH_BASELINE=other/dist/src/main.js)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSongWav } from '../src/index.js';
import { fixture, junk, readLogRecords, startServiceProcess } from '../test/helpers.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20);
const MB = 1024 * 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-memory-bench-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const take = path.join(dir, 'take-180s.wav');
writeSongWav(take, { seconds: 180, style: 'full' });
const takeBytes = fs.readFileSync(take);

const noise = Buffer.alloc(16 * MB, 0x5a);
/** 48 MB that starts as a WAV file does (so it is read until the limit, not refused as not audio). */
const tooLarge = Buffer.concat([takeBytes.subarray(0, 44), Buffer.alloc(48 * MB - 44, 0x5a)]);
/** A real FLAC file's first 8 KB (STREAMINFO and a few frames), then 16 MB of garbage. */
const corrupt = Buffer.concat([fixture('full-mono-16k.flac').subarray(0, 8192), junk(16 * MB, 7)]);

/** An MS-ADPCM WAV whose header claims 65,535 samples per 1-byte block: 16 KB that would decode to hours. */
function lyingAdpcm(): Buffer {
  const fmt = Buffer.alloc(50);
  fmt.writeUInt16LE(2, 0); // MS ADPCM
  fmt.writeUInt16LE(1, 2); // mono
  fmt.writeUInt32LE(44_100, 4);
  fmt.writeUInt32LE(44_100, 8);
  fmt.writeUInt16LE(1, 12); // blockAlign
  fmt.writeUInt16LE(4, 14);
  fmt.writeUInt16LE(32, 16);
  fmt.writeUInt16LE(65_535, 18); // samplesPerBlock
  fmt.writeUInt16LE(7, 20);
  [[256, 0], [512, -256], [0, 0], [192, 64], [240, 0], [460, -208], [392, -232]].forEach(([a, b], i) => {
    fmt.writeInt16LE(a ?? 0, 22 + i * 4);
    fmt.writeInt16LE(b ?? 0, 24 + i * 4);
  });
  const data = junk(16 * 1024, 3);
  const out = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt '), Buffer.from([fmt.length, 0, 0, 0]), fmt, Buffer.from('data'), Buffer.alloc(4), data]);
  out.writeUInt32LE(out.length - 8, 4);
  out.writeUInt32LE(data.length, 20 + fmt.length + 4);
  return out;
}
const lying = lyingAdpcm();

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

interface Row {
  phase: string;
  rss: number;
}

const PHASES: Record<string, { name: string; expected: number; send: (base: string) => Promise<number> }> = {
  length: { name: '48 MB, Content-Length over the limit (413)', expected: 413, send: (base) => post(base, form(tooLarge, 'big.wav')) },
  chunked: {
    name: '48 MB chunked, over the limit (413)',
    expected: 413,
    send: (base) => {
      const c = chunked(tooLarge);
      return post(base, c.body, c.headers);
    },
  },
  noise: { name: '16 MB not audio (415)', expected: 415, send: (base) => post(base, form(noise, 'noise.wav')) },
  corrupt: { name: '16 MB corrupt FLAC, decoded (422)', expected: 422, send: (base) => post(base, form(corrupt, 'corrupt.flac')) },
  lying: { name: '16 KB WAV with a lying ADPCM header (422)', expected: 422, send: (base) => post(base, form(lying, 'lying.wav')) },
  analysed: { name: '3-minute WAV analysed (200)', expected: 200, send: (base) => post(base, form(takeBytes, 'take.wav')) },
};
const ORDER = (process.env.BENCH_ORDER ?? 'length,chunked,noise,corrupt,lying,analysed').split(',').map((p) => p.trim());
for (const p of ORDER) if (!PHASES[p]) throw new Error(`BENCH_ORDER: unknown phase ${p} (${Object.keys(PHASES).join(', ')})`);

async function measure(label: string, env: Record<string, string>, nodeArgs: readonly string[], script?: string): Promise<Row[]> {
  const logDir = path.join(dir, `logs-${label}`);
  const service = startServiceProcess({ LOG_DIR: logDir, MAX_UPLOAD_MB: '32', ANALYSIS_WORKERS: '1', ...env }, script, nodeArgs);
  const base = await service.url;
  const rss = async (): Promise<number> => ((await (await fetch(`${base}/api/health`)).json()) as { memory: { rss_mb: number } }).memory.rss_mb;
  await sleep(3000);
  const rows: Row[] = [{ phase: 'idle, before the first upload', rss: await rss() }];
  for (const key of ORDER) {
    const phase = PHASES[key];
    if (!phase) continue;
    for (let i = 0; i < UPLOADS; i++) {
      const status = await phase.send(base).catch(() => phase.expected); // the server may close the connection while the client sends
      if (status !== phase.expected) throw new Error(`${phase.name}: ${status}, expected ${phase.expected}`);
    }
    await sleep(3000);
    rows.push({ phase: `${UPLOADS} × ${phase.name}`, rss: await rss() });
  }
  await sleep(57_000);
  rows.push({ phase: '60 s after the last upload', rss: await rss() });
  service.child.kill('SIGTERM');
  await service.exited;
  // What each idle collection gave back, from the service's own records.
  const collections = readLogRecords(logDir).filter((r) => r.event === 'memory.idle_collect');
  const described = collections.map((r) => `${String(r.rss_before_mb)} → ${String(r.rss_after_mb)} MB in ${String(r.duration_ms)} ms`);
  console.log(`${label}: idle collections: ${collections.length === 0 ? 'none' : described.join('; ')}`);
  return rows;
}

/** The variants measured side by side (one after another, on the same machine, in one run). */
const STANDARD: Record<string, { label: string; env: Record<string, string>; nodeArgs: readonly string[] }> = {
  image: { label: 'as the image runs it', env: { ...MALLOC_ENV }, nodeArgs: NODE_FLAGS },
  'no-idle-collection': { label: 'no idle collection', env: { ...MALLOC_ENV }, nodeArgs: [] },
  'glibc-defaults': { label: "glibc's malloc defaults", env: {}, nodeArgs: NODE_FLAGS },
};
const VARIANTS: Array<{ label: string; env: Record<string, string>; nodeArgs: readonly string[]; script?: string }> = [
  ...(process.env.BENCH_VARIANTS ?? Object.keys(STANDARD).join(',')).split(',').map((key) => {
    const variant = STANDARD[key.trim()];
    if (!variant) throw new Error(`BENCH_VARIANTS: unknown variant ${key} (${Object.keys(STANDARD).join(', ')})`);
    return variant;
  }),
  ...(process.env.BENCH_MMAP_THRESHOLDS ?? '')
    .split(',')
    .filter(Boolean)
    .map((t) => ({ label: `mmap threshold ${t}`, env: { MALLOC_MMAP_THRESHOLD_: t.trim() }, nodeArgs: NODE_FLAGS })),
  ...(process.env.BENCH_BASELINE ? [{ label: 'baseline build', env: { ...MALLOC_ENV }, nodeArgs: [], script: process.env.BENCH_BASELINE }] : []),
];

console.log(`\nUpload memory — Node ${process.version}, ${os.cpus().length} CPUs, 1 worker, MAX_UPLOAD_MB=32; RSS of the service process, 3 s after each phase\n`);
const results: Row[][] = [];
for (const v of VARIANTS) {
  const rows = await measure(v.label.replace(/[^A-Za-z0-9]+/g, '-'), v.env, v.nodeArgs, v.script);
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
console.log('');
VARIANTS.forEach((v, i) => {
  const rows = results[i] ?? [];
  const idle = rows[0]?.rss ?? NaN;
  const last = rows.at(-1)?.rss ?? NaN;
  console.log(`${v.label}: RSS 60 s after the last upload ${last.toFixed(0)} MB = ${(last / idle).toFixed(2)} × ${idle.toFixed(0)} MB before the first (target ≤ 1.2×: ${last / idle <= 1.2 ? 'met' : 'not met'})`);
});
fs.rmSync(dir, { recursive: true, force: true });
