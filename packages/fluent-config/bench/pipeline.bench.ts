/**
 * `pnpm bench:pipeline`: the log pipeline scenarios at full size on the real Fluent Bit and Loki
 * (FLUENT_BIT_BIN, LOKI_BIN), one table: per scenario delivered / lost / duplicated / fragments,
 * what a LogQL query finds, p50/p99 latency (Loki's acknowledgement − the record's own time), and
 * the sidecar's peak RSS (VmHWM). FLUENT_BIT_BIN_COMPARE (e.g. a 4.2.8 build) runs the sidecar
 * scenarios on it too, side by side. SCENARIOS=a,b,c,d,e picks some; RECORDS sets the burst size
 * (default 200,000); RATE_SECONDS the steady-rate duration (default 30).
 */
import { findBinaries, Loki, tempWorkDir, type Binaries } from '../test/pipeline/harness.js';
import { appKilled, burstWithLateSidecar, burstWithSidecarStop, steadyRate, type ScenarioResult } from '../test/pipeline/scenarios.js';

const found = findBinaries();
if ('skip' in found) {
  process.stderr.write(`bench:pipeline cannot run: ${found.skip}\n`);
  process.exit(2);
}
const records = Number(process.env.RECORDS ?? 200_000);
const rateSeconds = Number(process.env.RATE_SECONDS ?? 30);
const wanted = new Set((process.env.SCENARIOS ?? 'a,b,c,d,e').split(',').map((s) => s.trim()));
const padChars = 150; // ~430-byte records: 200,000 of them span 8 files of 10 MiB, beyond the 5 kept

const binaries: Array<{ label: string; b: Binaries }> = [{ label: found.fluentBit.split('/').pop()!, b: found }];
if (process.env.FLUENT_BIT_BIN_COMPARE) binaries.push({ label: process.env.FLUENT_BIT_BIN_COMPARE.split('/').pop()!, b: { ...found, fluentBit: process.env.FLUENT_BIT_BIN_COMPARE } });

const loki = await Loki.start(found.loki, tempWorkDir('bench-loki'));
const rows: Array<{ sidecar: string; id: string; r: ScenarioResult; seconds: number }> = [];
const maxMs = 300_000;

async function run(id: string, sidecar: string, scenario: () => Promise<ScenarioResult>): Promise<void> {
  if (!wanted.has(id)) return;
  const started = Date.now();
  process.stderr.write(`[bench:pipeline] ${id} on ${sidecar} …\n`);
  const r = await scenario();
  rows.push({ sidecar, id, r, seconds: (Date.now() - started) / 1000 });
  process.stderr.write(`[bench:pipeline] ${id}: delivered ${r.delivered}/${r.records}, lost ${r.lost}, duplicated ${r.duplicated}, p99 ${r.p99Ms} ms, peak ${(r.peakRssBytes / 1024 / 1024).toFixed(1)} MiB\n`);
}

try {
  for (const { label, b } of binaries) {
    await run('a', label, () => burstWithLateSidecar(b, loki, { records, padChars, lateMs: 5000, maxMs }));
    await run('b', label, () => burstWithSidecarStop(b, loki, { records, padChars, signal: 'SIGKILL', maxMs }));
    await run('c', label, () => burstWithSidecarStop(b, loki, { records, padChars, signal: 'SIGTERM', maxMs }));
    await run('d', label, () => appKilled(b, loki, { padChars: 5000, newRunRecords: 2000, maxMs }));
    await run('e', label, () => steadyRate(b, loki, { perSecond: 2000, seconds: rateSeconds, padChars, maxMs }));
  }
} finally {
  await loki.stop();
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
const lines = [
  '| scenario | sidecar | records | delivered | lost | duplicated | fragments | LogQL: distinct / entries | p50 ms | p99 ms | sidecar peak RSS (MiB) | s |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(({ sidecar, id, r, seconds }) =>
    `| ${id}. ${r.name} | ${sidecar} | ${r.records.toLocaleString('en')} | ${r.delivered.toLocaleString('en')} | ${r.lost} | ${r.duplicated} | ${r.fragments} | ${r.lokiDistinct.toLocaleString('en')} / ${r.lokiEntries.toLocaleString('en')} | ${r.p50Ms} | ${r.p99Ms} | ${mib(r.peakRssBytes)} | ${seconds.toFixed(0)} |`,
  ),
];
const peak = Math.max(...rows.filter((x) => x.sidecar === binaries[0]!.label).map((x) => x.r.peakRssBytes));
process.stdout.write(`${lines.join('\n')}\n\nsidecar peak RSS over all scenarios (${binaries[0]!.label}): ${mib(peak)} MiB; a limit with 30 % headroom: ≥ ${mib(peak / 0.7)} MiB\n`);
for (const { id, r } of rows) {
  if (id === 'd') process.stdout.write(`d: lines of the killed run on disk ${r.killedRunOnDisk}, delivered ${r.killedRunDeliveredOfDisk}; torn lines on disk ${r.tornOnDisk}; new run's first record: ${String(r.newRunFirstRecord?.event ?? 'unparseable')}\n`);
}
