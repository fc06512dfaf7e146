/**
 * Logger benchmark: this SDK vs raw pino with a sync file destination vs winston's File transport,
 * writing the same realistic record, interleaved round by round in one run so that machine noise
 * hits all three alike. Prints lines/s (until the lines are in the file) and per-call latency.
 *
 *   pnpm bench:logger            (LINES=50000 ROUNDS=5 by default)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import winston from 'winston';
import { createLogging, defaultLogSettings } from '../src/index.js';

const LINES = Number(process.env.LINES ?? 50_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'logger-bench-'));

const record = {
  event: 'analysis.stage',
  request_id: 'f3b2a1c4-5d6e-4f70-8192-a3b4c5d6e7f8',
  stage: 'key_extractor',
  file_name: 'practice-take-03.wav',
  file_size_mb: 48.21,
  duration_ms: 1234.5,
  rss_mb: 612.4,
  audio_seconds: 183.2,
};

interface RoundResult {
  linesPerSecond: number;
  p50us: number;
  p99us: number;
}

interface Contender {
  name: string;
  run(dir: string): Promise<RoundResult>;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function timeCalls(log: (i: number) => void): { elapsedNs: bigint; latencies: Float64Array } {
  const latencies = new Float64Array(LINES);
  const start = process.hrtime.bigint();
  let last = start;
  for (let i = 0; i < LINES; i++) {
    log(i);
    const now = process.hrtime.bigint();
    latencies[i] = Number(now - last) / 1000;
    last = now;
  }
  return { elapsedNs: last - start, latencies: latencies.sort() };
}

function countLines(dir: string): number {
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  }
  return n;
}

function result(startNs: bigint, endNs: bigint, latencies: Float64Array): RoundResult {
  return {
    linesPerSecond: LINES / (Number(endNs - startNs) / 1e9),
    p50us: percentile(latencies, 50),
    p99us: percentile(latencies, 99),
  };
}

const contenders: Contender[] = [
  {
    name: 'this SDK (pino-roll sync, redaction, bounds)',
    async run(dir) {
      const logging = await createLogging({ settings: { ...defaultLogSettings, dir }, stdout: 'off' });
      const log = logging.logger.child({ module: 'analysis' });
      const start = process.hrtime.bigint();
      const { latencies } = timeCalls((i) => log.info({ ...record, seq: i }, 'stage finished'));
      const end = process.hrtime.bigint(); // sync: on disk when the call returns
      await logging.close();
      return result(start, end, latencies);
    },
  },
  {
    name: 'raw pino, pino.destination({ sync: true })',
    async run(dir) {
      const dest = pino.destination({ dest: path.join(dir, 'pino.log'), sync: true });
      const log = pino({ base: { service: 'guitar-backend' } }, dest).child({ module: 'analysis' });
      const start = process.hrtime.bigint();
      const { latencies } = timeCalls((i) => log.info({ ...record, seq: i }, 'stage finished'));
      const end = process.hrtime.bigint();
      dest.end();
      return result(start, end, latencies);
    },
  },
  {
    name: 'winston File transport (json)',
    async run(dir) {
      const file = path.join(dir, 'winston.log');
      const transport = new winston.transports.File({ filename: file });
      const log = winston.createLogger({
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
        defaultMeta: { service: 'guitar-backend', module: 'analysis' },
        transports: [transport],
      });
      const start = process.hrtime.bigint();
      const { latencies } = timeCalls((i) => log.info('stage finished', { ...record, seq: i }));
      // winston writes asynchronously: the round ends when every line is in the file.
      while (countLines(dir) < LINES) await new Promise((r) => setTimeout(r, 20));
      const end = process.hrtime.bigint();
      log.on('error', () => {});
      log.close();
      return result(start, end, latencies);
    },
  },
];

const results = new Map<string, RoundResult[]>(contenders.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const dir = fs.mkdtempSync(path.join(root, 'r-'));
    (globalThis as { gc?: () => void }).gc?.();
    results.get(c.name)?.push(await c.run(dir));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const summary = contenders.map((c) => {
  const rs = results.get(c.name) ?? [];
  return {
    name: c.name,
    linesPerSecond: median(rs.map((r) => r.linesPerSecond)),
    p50us: median(rs.map((r) => r.p50us)),
    p99us: median(rs.map((r) => r.p99us)),
  };
});
const [sdk, rawPino, winstonResult] = summary;
console.log(`\nLogger benchmark: ${LINES} lines × ${ROUNDS} interleaved rounds, Node ${process.version}, ${os.cpus().length} CPUs (medians)\n`);
console.log('| destination | lines/s | p50 µs/call | p99 µs/call |');
console.log('|---|---:|---:|---:|');
for (const s of summary) {
  console.log(`| ${s.name} | ${Math.round(s.linesPerSecond).toLocaleString('en')} | ${s.p50us.toFixed(1)} | ${s.p99us.toFixed(1)} |`);
}
if (sdk && rawPino && winstonResult) {
  const vsPino = sdk.linesPerSecond / rawPino.linesPerSecond;
  const vsWinston = sdk.linesPerSecond / winstonResult.linesPerSecond;
  console.log(`\nSDK / raw pino: ${vsPino.toFixed(2)}× (target ≥ 0.80×) ${vsPino >= 0.8 ? 'met' : 'NOT met'}`);
  console.log(`SDK / winston:  ${vsWinston.toFixed(2)}× (target ≥ 2×) ${vsWinston >= 2 ? 'met' : 'NOT met'}`);
}
fs.rmSync(root, { recursive: true, force: true });
