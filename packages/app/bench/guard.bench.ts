/**
 * `pnpm bench:guard`: how much memory an analysis really takes for recordings of different sample
 * rates and channels, against what the memory guard estimates before decoding. The service runs
 * as its own process, as the image runs it (NODE_FLAGS, MALLOC_ENV), in a memory cgroup; its peak
 * is the kernel's own account (what the OOM killer judges). For each take, side by side:
 *  1. no limit to speak of, MEMORY_GUARD=off: the peak's growth over the idle service, against the
 *     guard's estimate of it (the upload, which the guard sees in RSS, plus its base, per-minute
 *     and signal terms), as a ratio (≥ 1: the guard is on the safe side), beside the ratio of the
 *     guard's first form (70 MB per audio minute, whatever the rate and channels);
 *  2. a limit at the idle peak + 85 % of that growth, MEMORY_GUARD=reject: 507 and still up;
 *  3. the same limit, MEMORY_GUARD=off: what the guard prevents (killed, or not).
 *
 *   sudo npx pnpm@10.34.9 bench:guard      (BENCH_GUARD_TAKES=44100x1x10,44100x2x10,96000x2x5,192000x2x3:
 *                                           rate x channels x minutes)
 * Needs root and a writable cgroup memory controller; says why and exits 2 without one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { writeSongWav } from '../src/index.js';
import { DEFAULT_GUARD_BASE_MB, DEFAULT_GUARD_MB_PER_MINUTE, DEFAULT_GUARD_SIGNAL_COPIES, judgeMemory } from '../src/memory/guard.js';
import { MALLOC_ENV } from '../src/memory/malloc-env.js';
import { NODE_FLAGS } from '../src/memory/node-flags.js';
import { mainScript, whenListening } from '../test/helpers.js';
import { createMemoryCgroup, memoryCgroupUnavailable, type MemoryCgroup } from './memory-cgroup.js';

const unavailable = memoryCgroupUnavailable();
if (unavailable) {
  process.stderr.write(`bench:guard cannot run: ${unavailable}\n`);
  process.exit(2);
}

const MB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const takes = (process.env.BENCH_GUARD_TAKES ?? '44100x1x10,44100x2x10,96000x2x5,192000x2x3').split(',').map((t) => {
  const [rate, channels, minutes] = t.split('x').map(Number);
  if (!rate || (channels !== 1 && channels !== 2) || !minutes) throw new Error(`BENCH_GUARD_TAKES: '${t}' is not rate x channels (1 or 2) x minutes`);
  return { rate, channels: channels as 1 | 2, minutes };
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-bench-'));

interface RunResult {
  status: number | 'connection lost';
  alive: boolean;
  idlePeakBytes: number;
  peakBytes: number;
  oomKills: number;
}

/** The service in its own memory cgroup, one upload, then stopped. */
async function run(file: string, limitBytes: number, guard: 'off' | 'reject', label: string): Promise<RunResult> {
  const cgroup: MemoryCgroup = createMemoryCgroup(`guitar-backend-guard-bench-${process.pid}-${label}`, limitBytes);
  const env = { ...process.env, ...MALLOC_ENV, PORT: '0', HOST: '127.0.0.1', LOG_STDOUT: 'off', LOG_DIR: fs.mkdtempSync(path.join(dir, 'logs-')), ANALYSIS_WORKERS: '1', MEMORY_GUARD: guard, MAX_UPLOAD_MB: '4096', MAX_AUDIO_MINUTES: '240' };
  // A shell joins the cgroup, then becomes the service (exec): all of it is in the cgroup from the start.
  const child = spawn('/bin/sh', ['-c', 'cg=$1; shift; echo $$ > "$cg/cgroup.procs" && exec "$@"', 'sh', cgroup.dir, process.execPath, ...NODE_FLAGS, mainScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const { url, exited } = whenListening(child);
  try {
    const base = await url;
    await sleep(1000);
    const idlePeakBytes = cgroup.peakBytes();
    const form = new FormData();
    form.append('file', await fs.openAsBlob(file, { type: 'audio/wav' }), path.basename(file));
    let status: RunResult['status'];
    try {
      const res = await fetch(`${base}/api/analyze`, { method: 'POST', body: form });
      await res.arrayBuffer();
      status = res.status;
    } catch {
      status = 'connection lost';
    }
    await sleep(500);
    const alive = child.exitCode === null && child.signalCode === null;
    return { status, alive, idlePeakBytes, peakBytes: cgroup.peakBytes(), oomKills: cgroup.oomKills() };
  } finally {
    child.kill('SIGKILL');
    await exited;
    await sleep(200);
    cgroup.remove();
  }
}

const mb = (bytes: number): string => (bytes / MB).toFixed(0);
process.stdout.write(
  `guard defaults: MEMORY_GUARD_BASE_MB=${DEFAULT_GUARD_BASE_MB}, MEMORY_GUARD_MB_PER_MINUTE=${DEFAULT_GUARD_MB_PER_MINUTE}, MEMORY_GUARD_SIGNAL_COPIES=${DEFAULT_GUARD_SIGNAL_COPIES}\n\n` +
    '| take | WAV MB | measured growth MB | per audio minute | guard\'s estimate MB | estimate / measured | 70 MB/min / measured | limit MB | reject | off |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n',
);
for (const { rate, channels, minutes } of takes) {
  const file = path.join(dir, `take-${rate}-${channels}ch-${minutes}min.wav`);
  writeSongWav(file, { seconds: minutes * 60, sampleRate: rate, channels });
  const fileBytes = fs.statSync(file).size;
  const free = await run(file, 64 * 1024 * MB, 'off', 'free');
  const growth = free.peakBytes - free.idlePeakBytes;
  const settings = { mode: 'reject' as const, baseMb: DEFAULT_GUARD_BASE_MB, mbPerAudioMinute: DEFAULT_GUARD_MB_PER_MINUTE, signalCopies: DEFAULT_GUARD_SIGNAL_COPIES, limitBytes: Number.MAX_SAFE_INTEGER };
  // What the guard adds to RSS now (which holds the upload by then) for this length and shape.
  const estimate = fileBytes + (judgeMemory(minutes * 60, { sampleRate: rate, channels }, 0, settings)?.estimatedPeakBytes ?? 0);
  const former = fileBytes + 70 * MB * minutes;
  const limit = Math.round(free.idlePeakBytes + 0.85 * growth);
  const outcome = (r: RunResult): string => `${r.status}, ${r.alive ? 'up' : 'dead'}${r.oomKills ? `, ${r.oomKills} OOM kill` : ''}`;
  const rejected = await run(file, limit, 'reject', 'reject');
  const off = await run(file, limit, 'off', 'off');
  process.stdout.write(
    `| ${rate / 1000} kHz, ${channels} ch, ${minutes} min | ${mb(fileBytes)} | ${mb(growth)} | ${(growth / MB / minutes).toFixed(1)} | ${mb(estimate)} | ${(estimate / growth).toFixed(2)} | ${(former / growth).toFixed(2)} | ${mb(limit)} | ${outcome(rejected)} | ${outcome(off)} |\n`,
  );
  if (free.status !== 200) process.stdout.write(`  (the unlimited run answered ${free.status})\n`);
  fs.rmSync(file);
}
fs.rmSync(dir, { recursive: true, force: true });
