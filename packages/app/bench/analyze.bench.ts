/**
 * Analysis benchmark: the real service, listening on 127.0.0.1, fed generated WAV recordings.
 * Prints a table (not a timed test):
 *  - per length: wall time, realtime factor, peak RSS, RSS after the job (worker retired);
 *  - the peak-memory slope (MB per audio minute) against librosa's 88 MiB/min;
 *  - /api/health p50/p99 while a 10-minute analysis runs;
 *  - RSS after N consecutive 10-minute jobs against after 1.
 *
 *   pnpm bench:analyze                       (BENCH_LENGTHS=30,180,600,1800 BENCH_CONSECUTIVE=20)
 *   BENCH_LENGTHS=30,180 BENCH_CONSECUTIVE=3 pnpm bench:analyze   (quick)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSongWav } from '../src/index.js';
import { startServiceProcess } from '../test/helpers.js';

const LENGTHS = (process.env.BENCH_LENGTHS ?? '30,180,600,1800').split(',').map(Number);
const CONSECUTIVE = Number(process.env.BENCH_CONSECUTIVE ?? 20);
/** librosa 0.10.2 on this kind of machine (issue #4): wall seconds by audio length, and its memory slope. */
const LIBROSA = { 180: [9, 13], 600: [23, 28] } as Record<number, [number, number]>;
const LIBROSA_MB_PER_MIN = 88;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The service runs as its own process, as in production: its RSS is its own, read from /api/health.
const service = startServiceProcess({ LOG_DIR: path.join(dir, 'logs'), MAX_UPLOAD_MB: '1024', MAX_AUDIO_MINUTES: '240', ANALYSIS_WORKERS: String(os.availableParallelism()) });
const server = service.child;
const base = await service.url;
const health = async (): Promise<{ workers: number; memory: { rss_mb: number } }> => (await (await fetch(`${base}/api/health`)).json()) as { workers: number; memory: { rss_mb: number } };
const rssMb = async (): Promise<number> => (await health()).memory.rss_mb;

function recording(seconds: number): string {
  const file = path.join(dir, `take-${seconds}s.wav`);
  if (!fs.existsSync(file)) writeSongWav(file, { seconds, style: 'full' });
  return file;
}

interface Answer {
  audio: { duration_seconds: number };
  tempo: { bpm: number | null };
  key: { name: string } | null;
  processing: { total_ms: number; peak_rss_mb: number; decode_ms: number; algorithms_ms: Record<string, number> };
}

async function analyse(file: string): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(file)]), path.basename(file));
  const res = await fetch(`${base}/api/analyze`, { method: 'POST', body: form });
  if (res.status !== 200) throw new Error(`${file}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Answer;
}

async function settledRss(): Promise<number> {
  await sleep(2000); // a retired worker exits and its memory is unmapped; its replacement loads essentia
  return rssMb();
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

console.log(`\nAnalysis benchmark — Node ${process.version}, ${os.cpus().length} CPUs, ${(await health()).workers} workers, generated full-mix WAV (mono 44.1 kHz); RSS is the service process's\n`);
const idleRss = await settledRss();
const rows: Array<{ seconds: number; answer: Answer; after: number }> = [];
for (const seconds of LENGTHS) {
  const file = recording(seconds);
  const answer = await analyse(file);
  rows.push({ seconds, answer, after: await settledRss() });
}

console.log('| audio | wall s | realtime × | librosa wall s | vs librosa | peak RSS MB | RSS after MB | decode ms | slowest stages (ms) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const { seconds, answer, after } of rows) {
  const wall = answer.processing.total_ms / 1000;
  const lib = LIBROSA[seconds];
  const stages = Object.entries(answer.processing.algorithms_ms).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(
    `| ${seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`} | ${wall.toFixed(1)} | ${(seconds / wall).toFixed(1)} | ${lib ? `${lib[0]}–${lib[1]}` : '–'} | ${lib ? `${(wall / lib[1]).toFixed(2)}–${(wall / lib[0]).toFixed(2)}` : '–'} | ${answer.processing.peak_rss_mb.toFixed(0)} | ${after.toFixed(0)} | ${answer.processing.decode_ms} | ${stages} |`,
  );
}
if (rows.length >= 2) {
  // Least-squares slope of peak RSS over audio minutes.
  const xs = rows.map((r) => r.seconds / 60);
  const ys = rows.map((r) => r.answer.processing.peak_rss_mb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] ?? 0) - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  console.log(`\nPeak RSS slope: ${slope.toFixed(1)} MB per audio minute (librosa: ${LIBROSA_MB_PER_MIN}; ratio ${(slope / LIBROSA_MB_PER_MIN).toFixed(2)}×, target 0.5–2×); idle RSS ${idleRss.toFixed(0)} MB`);
}

// Health latency while a 10-minute analysis runs.
const tenMinutes = recording(600);
const latencies: number[] = [];
let running = true;
const poller = (async () => {
  while (running) {
    const t = performance.now();
    await (await fetch(`${base}/api/health`)).json();
    latencies.push(performance.now() - t);
    await sleep(20);
  }
})();
await analyse(tenMinutes);
running = false;
await poller;
console.log(`\n/api/health during a 10-min analysis: ${latencies.length} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (target p99 < 50 ms)`);

// RSS after consecutive 10-minute jobs.
if (CONSECUTIVE > 0) {
  const afterEach: number[] = [];
  for (let i = 0; i < CONSECUTIVE; i++) {
    await analyse(tenMinutes);
    afterEach.push(await settledRss());
  }
  const first = afterEach[0] ?? NaN;
  const last = afterEach.at(-1) ?? NaN;
  console.log(`RSS after 1 ten-minute job: ${first.toFixed(0)} MB; after ${CONSECUTIVE}: ${last.toFixed(0)} MB (growth ${(((last - first) / first) * 100).toFixed(1)} %, target ≤ 10 %)`);
}

server.kill('SIGTERM');
await service.exited;
fs.rmSync(dir, { recursive: true, force: true });
