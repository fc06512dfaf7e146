/**
 * Analysis benchmark: the real service, listening on 127.0.0.1, fed generated WAV recordings.
 * Prints a table (not a timed test):
 *  - per length: wall time, CPU seconds of the service process, realtime factor, peak RSS, RSS
 *    after the job; with LIBROSA_ANCHOR, the old librosa analysis on the same file in a warm
 *    process (imported and warmed up, as a running server is), measured right after it in the same
 *    run, and the ratios of wall and CPU time;
 *  - the peak-memory slope (MB per audio minute) against librosa's, measured the same way;
 *  - /api/health p50/p99 while a 10-minute analysis runs;
 *  - memory back at idle: RSS 60 s after the last job against RSS before the first;
 *  - RSS after N consecutive 10-minute jobs against after 1.
 *
 *   LIBROSA_ANCHOR=/path/to/anchors/librosa pnpm bench:analyze
 *        (BENCH_LENGTHS=30,180,600,1800 BENCH_CONSECUTIVE=20 BENCH_IDLE_SECONDS=60; PYTHON, default
 *         Debian's /usr/bin/python3, with the packages listed in the anchor's README)
 *   BENCH_LENGTHS=30,180 BENCH_CONSECUTIVE=3 pnpm bench:analyze   (quick)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { writeSongWav } from '../src/index.js';
import { startServiceProcess } from '../test/helpers.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';

const LENGTHS = (process.env.BENCH_LENGTHS ?? '30,180,600,1800').split(',').map(Number);
const CONSECUTIVE = Number(process.env.BENCH_CONSECUTIVE ?? 20);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const ANCHOR = process.env.LIBROSA_ANCHOR;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'analyze-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The service runs as its own process, as in production: its RSS is its own, read from /api/health.
// With the node flags and the malloc setting the image runs it with (NODE_FLAGS, MALLOC_ENV).
const service = startServiceProcess(
  {
    LOG_DIR: path.join(dir, 'logs'),
    MAX_UPLOAD_MB: '1024',
    MAX_AUDIO_MINUTES: '240',
    ANALYSIS_WORKERS: String(os.availableParallelism()),
    ...MALLOC_ENV,
  },
  undefined,
  NODE_FLAGS,
);
const server = service.child;
const base = await service.url;
const health = async (): Promise<{ workers: number; memory: { rss_mb: number } }> => (await (await fetch(`${base}/api/health`)).json()) as { workers: number; memory: { rss_mb: number } };
const rssMb = async (): Promise<number> => (await health()).memory.rss_mb;

/** CPU seconds (user + system, every thread) the service process has used so far. */
function serviceCpuSeconds(): number {
  const stat = fs.readFileSync(`/proc/${server.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

interface LibrosaAnswer {
  wall_s: number;
  cpu_s: number;
  peak_rss_mb: number;
  rss_mb: number;
  tempo_bpm: number;
  key: string;
  error: string | null;
}

/** librosa's analysis in one long-lived process (the anchor's warm.py), warmed up on a short take. */
let stopLibrosa = (): void => {};
async function startLibrosa(): Promise<((file: string) => Promise<LibrosaAnswer>) | null> {
  if (!ANCHOR || !fs.existsSync(path.join(ANCHOR, 'warm.py'))) return null;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'numba-'));
  const child = spawn(process.env.PYTHON ?? '/usr/bin/python3', [path.join(ANCHOR, 'warm.py')], {
    env: { ...process.env, NUMBA_CACHE_DIR: cache, PYTHONPATH: `${path.join(ANCHOR, 'src')}:${path.join(ANCHOR, 'shim')}` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const queue: Array<(line: string) => void> = [];
  lines.on('line', (line) => queue.shift()?.(line));
  const next = (): Promise<string> => new Promise((resolve) => queue.push(resolve));
  const ready = JSON.parse(await next()) as { ready: boolean };
  if (!ready.ready) return null;
  const ask = async (file: string): Promise<LibrosaAnswer> => {
    const answer = next();
    child.stdin.write(`${file}\n`);
    return JSON.parse(await answer) as LibrosaAnswer;
  };
  await ask(recording(30)); // numba compiles on the first call
  stopLibrosa = () => {
    lines.close();
    child.stdin.end();
    child.kill();
    fs.rmSync(cache, { recursive: true, force: true });
  };
  return ask;
}

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
const librosa = await startLibrosa();
// Ours warmed up too: a worker started and essentia loaded, as in a service that has been running.
await analyse(recording(30));
if (!librosa) console.log('librosa: not run (set LIBROSA_ANCHOR to the anchor folder, see its README)\n');
const rows: Array<{ seconds: number; answer: Answer; wall: number; cpu: number; after: number; lib: LibrosaAnswer | null }> = [];
for (const seconds of LENGTHS) {
  const file = recording(seconds);
  const cpu0 = serviceCpuSeconds();
  const t0 = performance.now();
  const answer = await analyse(file);
  const wall = (performance.now() - t0) / 1000;
  const cpu = serviceCpuSeconds() - cpu0;
  const after = await settledRss();
  // librosa right after, on the same file, while nothing else of ours runs.
  const lib = librosa ? await librosa(file) : null;
  rows.push({ seconds, answer, wall, cpu, after, lib });
}
stopLibrosa();

const slope = (xs: number[], ys: number[]): number => {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  return xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] ?? 0) - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
};
console.log('| audio | wall s | CPU s | realtime × | librosa warm wall s | librosa CPU s | wall vs librosa (target ≤ 0.33) | CPU vs librosa (target ≤ 0.5) | peak RSS MB | librosa peak RSS MB | RSS after MB | decode ms | slowest stages (ms) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const { seconds, answer, wall, cpu, after, lib } of rows) {
  const stages = Object.entries(answer.processing.algorithms_ms).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(
    `| ${seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} | ${(seconds / wall).toFixed(1)} | ${lib ? lib.wall_s.toFixed(1) : '–'} | ${lib ? lib.cpu_s.toFixed(1) : '–'} | ${lib ? (wall / lib.wall_s).toFixed(2) : '–'} | ${lib ? (cpu / lib.cpu_s).toFixed(2) : '–'} | ${answer.processing.peak_rss_mb.toFixed(0)} | ${lib ? lib.peak_rss_mb.toFixed(0) : '–'} | ${after.toFixed(0)} | ${answer.processing.decode_ms} | ${stages} |`,
  );
}
if (rows.length >= 2) {
  // Least-squares slope of peak RSS over audio minutes; librosa's peak (ru_maxrss) only grows, and
  // the lengths run shortest first, so each of its figures is that take's own peak.
  const xs = rows.map((r) => r.seconds / 60);
  const ours = slope(xs, rows.map((r) => r.answer.processing.peak_rss_mb));
  const libRows = rows.filter((r) => r.lib);
  const theirs = libRows.length >= 2 ? slope(libRows.map((r) => r.seconds / 60), libRows.map((r) => r.lib?.peak_rss_mb ?? 0)) : null;
  console.log(
    `\nPeak RSS slope: ${ours.toFixed(1)} MB per audio minute${theirs ? ` (librosa, same run: ${theirs.toFixed(1)}; ratio ${(ours / theirs).toFixed(2)}×, target 0.5–2×)` : ''}; idle RSS ${idleRss.toFixed(0)} MB`,
  );
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

// Memory back at idle: RSS while nothing runs, up to IDLE_SECONDS after the last job.
{
  const samples: string[] = [];
  const start = performance.now();
  let last = NaN;
  for (const at of [0, 10, 30, IDLE_SECONDS].filter((x, i, a) => x <= IDLE_SECONDS && a.indexOf(x) === i)) {
    await sleep(Math.max(0, at * 1000 - (performance.now() - start)));
    last = await rssMb();
    samples.push(`${at} s: ${last.toFixed(0)} MB`);
  }
  console.log(`Memory back at idle: RSS before the first job ${idleRss.toFixed(0)} MB; after the last: ${samples.join(', ')} (ratio at ${IDLE_SECONDS} s ${(last / idleRss).toFixed(2)}×, target ≤ 1.2×)`);
}

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
