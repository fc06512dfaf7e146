/** The pipeline scenarios, shared by the tests (smaller sizes, asserting delivery) and the benchmark (full sizes, figures). */
import fs from 'node:fs';
import { listLogFiles, type LogSettings } from '@guitar-backend/logger';
import { countRun, sleep, startPipeline, tempWorkDir, waitFor, Writer, type Binaries, type Loki, type Pipeline, type RunCount } from './harness.js';

export interface ScenarioResult extends RunCount {
  name: string;
  peakRssBytes: number;
  /** The sidecar's CPU use over the scenario, in cores (CPU seconds per wall second it ran). */
  sidecarCpuCores: number;
  sidecarStarts: number;
  sidecarProblems: string[];
  /** Log files left on disk once everything was delivered (retention let the read ones go). */
  filesLeft: number;
  writerStats: Record<string, number>;
  /** Scenario d: lines on disk that do not parse (cut by the kill), and records of the killed run on disk. */
  tornOnDisk?: number;
  killedRunOnDisk?: number;
  killedRunDeliveredOfDisk?: number;
  /** The first record of the new run, as read back from its file (null: absent or unparseable). */
  newRunFirstRecord?: Record<string, unknown> | null;
}

const DEFAULT_ROTATION: LogSettings['rotation'] = { maxFileBytes: 10 * 1024 * 1024, keepFiles: 5, frequency: null };

const runId = (name: string): string => `pl${name}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** Waits until every record of the run reached Loki, or nothing new arrived for `stallMs`. */
async function waitDelivered(p: Pipeline, run: string, records: number, stallMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const n = p.door.distinct(run);
    if (n >= records) return;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) return;
    await sleep(100);
  }
}

async function finish(name: string, p: Pipeline, run: string, records: number, from: number, writer: Writer, extra: Partial<ScenarioResult> = {}): Promise<ScenarioResult> {
  // Retention lets a file go once the sidecar's DB says it was read; give it a few sweeps.
  await waitFor('retention to let the read files go', () => listLogFiles(p.settings).length <= p.settings.rotation.keepFiles, 8000).catch(() => undefined);
  const filesLeft = listLogFiles(p.settings).length;
  const writerStats = await writer.stop();
  const count = await countRun(p, run, records, from);
  const result: ScenarioResult = {
    name,
    ...count,
    peakRssBytes: p.sidecar.peakRssBytes,
    sidecarCpuCores: p.sidecar.cpuCores,
    sidecarStarts: p.sidecar.starts,
    sidecarProblems: p.sidecar.problems(),
    filesLeft,
    writerStats,
    ...extra,
  };
  await p.close();
  return result;
}

export interface BurstOptions {
  records: number;
  padChars: number;
  rotation?: LogSettings['rotation'];
  maxMs: number;
}

/** a. A burst at full speed; the sidecar starts `lateMs` after the writer (a sidecar restart during a burst). */
export async function burstWithLateSidecar(b: Binaries, loki: Loki, o: BurstOptions & { lateMs: number }): Promise<ScenarioResult> {
  const rotation = o.rotation ?? DEFAULT_ROTATION;
  const p = await startPipeline(b, loki, tempWorkDir('late'), rotation);
  const run = runId('a');
  const from = Date.now();
  const writer = Writer.start({ dir: p.dir, run, count: o.records, ratePerSecond: 0, maxFileBytes: rotation.maxFileBytes, keepFiles: rotation.keepFiles, budgetBytes: 50 * rotation.maxFileBytes, padChars: o.padChars });
  await sleep(o.lateMs);
  p.sidecar.start();
  await writer.waitDone(o.maxMs);
  await waitDelivered(p, run, o.records, 20_000, o.maxMs);
  return finish(`burst of ${o.records.toLocaleString('en')}, sidecar ${o.lateMs / 1000} s late`, p, run, o.records, from, writer);
}

/** b/c. A burst; at half delivered the sidecar gets `signal`, and is started again 1 s after it exited. */
export async function burstWithSidecarStop(b: Binaries, loki: Loki, o: BurstOptions & { signal: 'SIGKILL' | 'SIGTERM' }): Promise<ScenarioResult> {
  const rotation = o.rotation ?? DEFAULT_ROTATION;
  const p = await startPipeline(b, loki, tempWorkDir(o.signal.toLowerCase()), rotation);
  const run = runId(o.signal === 'SIGKILL' ? 'b' : 'c');
  const from = Date.now();
  p.sidecar.start();
  const writer = Writer.start({ dir: p.dir, run, count: o.records, ratePerSecond: 0, maxFileBytes: rotation.maxFileBytes, keepFiles: rotation.keepFiles, budgetBytes: 50 * rotation.maxFileBytes, padChars: o.padChars });
  await waitFor('half of the records to reach Loki', () => p.door.distinct(run) >= o.records / 2, o.maxMs, 20);
  await p.sidecar.stop(o.signal);
  await sleep(1000);
  p.sidecar.start();
  await writer.waitDone(o.maxMs);
  await waitDelivered(p, run, o.records, 20_000, o.maxMs);
  return finish(`burst of ${o.records.toLocaleString('en')}, sidecar ${o.signal} at 50 %, restarted after 1 s`, p, run, o.records, from, writer);
}

/**
 * d. The app is SIGKILLed at a random moment while writing lines over 4 KiB, then a new app
 * process starts on the same directory. Every line on disk must reach Loki, and the new run's
 * first record (service.start) must be whole.
 */
export async function appKilled(b: Binaries, loki: Loki, o: { padChars: number; newRunRecords: number; maxMs: number }): Promise<ScenarioResult> {
  // Files are kept (keepFiles 1000) so what the killed run left on disk can be read afterwards.
  const rotation: LogSettings['rotation'] = { maxFileBytes: DEFAULT_ROTATION.maxFileBytes, keepFiles: 1000, frequency: null };
  const p = await startPipeline(b, loki, tempWorkDir('appkill'), rotation);
  const killedRun = runId('d');
  const run = runId('e');
  const from = Date.now();
  p.sidecar.start();
  const plan = { dir: p.dir, maxFileBytes: rotation.maxFileBytes, keepFiles: rotation.keepFiles, budgetBytes: 1024 * 1024 * 1024, padChars: o.padChars };
  const killed = Writer.start({ ...plan, run: killedRun, count: 0, ratePerSecond: 2000, untilKilled: true });
  await waitFor('the app to write', () => listLogFiles(p.settings).some((f) => fs.statSync(f.path).size > 0), o.maxMs, 20);
  await sleep(200 + Math.random() * 1200);
  await killed.kill();
  const writer = Writer.start({ ...plan, run, count: o.newRunRecords, ratePerSecond: 0, firstEvent: 'service.start' });
  await writer.waitDone(o.maxMs);

  let torn = 0;
  const onDisk = new Set<number>();
  let newRunFirstRecord: Record<string, unknown> | null = null;
  for (const f of listLogFiles(p.settings)) {
    for (const line of fs.readFileSync(f.path, 'utf8').split('\n')) {
      if (line === '') continue;
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
      } catch {
        torn++;
        continue;
      }
      if (r.run === killedRun && typeof r.seq === 'number') onDisk.add(r.seq);
      if (r.run === run && r.seq === 0) newRunFirstRecord = r;
    }
  }
  await waitDelivered(p, run, o.newRunRecords, 20_000, o.maxMs);
  const deliveredOfKilled = (): Set<number> => new Set((p.door.arrivals.get(killedRun) ?? []).map((a) => a.seq));
  await waitFor('the killed run\'s lines on disk to reach Loki', () => {
    const delivered = deliveredOfKilled();
    return [...onDisk].every((s) => delivered.has(s));
  }, 20_000, 200).catch(() => undefined);
  const delivered = deliveredOfKilled();
  return finish(`app SIGKILLed at a random moment, new app on the same directory`, p, run, o.newRunRecords, from, writer, {
    tornOnDisk: torn,
    killedRunOnDisk: onDisk.size,
    killedRunDeliveredOfDisk: [...onDisk].filter((s) => delivered.has(s)).length,
    newRunFirstRecord,
  });
}

/** e. A steady rate across rotations (1 MiB files): latency from the record's time to Loki's acknowledgement. */
export async function steadyRate(b: Binaries, loki: Loki, o: { perSecond: number; seconds: number; padChars: number; maxMs: number }): Promise<ScenarioResult> {
  const rotation: LogSettings['rotation'] = { maxFileBytes: 1024 * 1024, keepFiles: 5, frequency: null };
  const p = await startPipeline(b, loki, tempWorkDir('rate'), rotation);
  const run = runId('r');
  const records = o.perSecond * o.seconds;
  p.sidecar.start();
  await sleep(1500); // the sidecar is up before the load, as in a pod
  const from = Date.now();
  const writer = Writer.start({ dir: p.dir, run, count: records, ratePerSecond: o.perSecond, maxFileBytes: rotation.maxFileBytes, keepFiles: rotation.keepFiles, budgetBytes: 50 * rotation.maxFileBytes, padChars: o.padChars });
  await writer.waitDone(o.seconds * 1000 + o.maxMs);
  await waitDelivered(p, run, records, 20_000, o.maxMs);
  return finish(`${o.perSecond.toLocaleString('en')} lines/s for ${o.seconds} s across rotations`, p, run, records, from, writer);
}
