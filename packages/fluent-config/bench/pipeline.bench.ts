/**
 * `pnpm bench:pipeline`: the log pipeline scenarios at full size on the real Fluent Bit and Loki
 * (FLUENT_BIT_BIN, LOKI_BIN), one table: per scenario delivered / lost / duplicated / fragments,
 * what a LogQL query finds, p50/p99 latency (Loki's acknowledgement − the record's own time), and
 * the sidecar's peak RSS (VmHWM) and CPU use (CPU seconds per second it ran). FLUENT_BIT_BIN_COMPARE (e.g. a 4.2.8 build) runs the scenarios
 * of COMPARE_SCENARIOS (default b,c: the sidecar kills) on it too, side by side. SCENARIOS=a,b,c,d,e picks some; RECORDS sets the burst size
 * (default 200,000); RATE_SECONDS the steady-rate duration (default 30). SIDECAR_CPU_MILLICORES
 * (e.g. 100, the pod's limit) runs the scenarios again, side by side, with the sidecar under that
 * CPU limit (a cgroup; needs root).
 */
import { findBinaries, Loki, tempWorkDir, type Binaries } from '../test/pipeline/harness.js';
import { createCpuLimit } from './cpu-limit.js';
import { appKilled, burstWithLateSidecar, burstWithSidecarStop, steadyRate, type ScenarioResult } from '../test/pipeline/scenarios.js';

const found = findBinaries();
if ('skip' in found) {
  process.stderr.write(`bench:pipeline cannot run: ${found.skip}\n`);
  process.exit(2);
}
const records = Number(process.env.RECORDS ?? 200_000);
const rateSeconds = Number(process.env.RATE_SECONDS ?? 30);
const list = (value: string): Set<string> => new Set(value.split(',').map((s) => s.trim()));
const wanted = list(process.env.SCENARIOS ?? 'a,b,c,d,e');
const compared = list(process.env.COMPARE_SCENARIOS ?? 'b,c');
const padChars = 150; // ~430-byte records: 200,000 of them span 8 files of 10 MiB, beyond the 5 kept

const millicores = process.env.SIDECAR_CPU_MILLICORES ? Number(process.env.SIDECAR_CPU_MILLICORES) : null;
const cpuLimit = millicores === null ? null : createCpuLimit(millicores);
const limited = (b: Binaries): Binaries => (cpuLimit ? { ...b, sidecarCgroup: cpuLimit.dir } : b);
const limitLabel = millicores === null ? '' : ` (${millicores}m)`;
const binaries: Array<{ label: string; b: Binaries; scenarios: Set<string> }> = [{ label: found.fluentBit.split('/').pop()!, b: found, scenarios: wanted }];
// The same scenarios again, side by side in this run, with the sidecar under the limit.
if (cpuLimit) binaries.push({ label: found.fluentBit.split('/').pop()! + limitLabel, b: limited(found), scenarios: wanted });
if (process.env.FLUENT_BIT_BIN_COMPARE) {
  binaries.push({ label: process.env.FLUENT_BIT_BIN_COMPARE.split('/').pop()! + limitLabel, b: limited({ ...found, fluentBit: process.env.FLUENT_BIT_BIN_COMPARE }), scenarios: compared });
}

const loki = await Loki.start(found.loki, tempWorkDir('bench-loki'));
const rows: Array<{ sidecar: string; id: string; r: ScenarioResult; seconds: number }> = [];
const maxMs = 300_000;

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
const row = ({ sidecar, id, r, seconds }: { sidecar: string; id: string; r: ScenarioResult; seconds: number }): string =>
  `| ${id}. ${r.name} | ${sidecar} | ${r.records.toLocaleString('en')} | ${r.delivered.toLocaleString('en')} | ${r.lost} | ${r.duplicated} | ${r.fragments} | ${r.lokiDistinct.toLocaleString('en')} / ${r.lokiEntries.toLocaleString('en')} | ${r.p50Ms} | ${r.p99Ms} | ${mib(r.peakRssBytes)} | ${r.sidecarCpuCores.toFixed(2)} | ${seconds.toFixed(0)} |`;
process.stdout.write(
  '| scenario | sidecar | records | delivered | lost | duplicated | fragments | LogQL: distinct / entries | p50 ms | p99 ms | sidecar peak RSS (MiB) | sidecar CPU (cores) | s |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
);

async function run(id: string, sidecar: string, scenarios: Set<string>, scenario: () => Promise<ScenarioResult>): Promise<void> {
  if (!scenarios.has(id)) return;
  const started = Date.now();
  process.stderr.write(`[bench:pipeline] ${id} on ${sidecar} …\n`);
  let r: ScenarioResult;
  try {
    r = await scenario();
  } catch (err) {
    process.stdout.write(`| ${id} | ${sidecar} | failed: ${err instanceof Error ? err.message : String(err)} |\n`);
    return;
  }
  const done = { sidecar, id, r, seconds: (Date.now() - started) / 1000 };
  rows.push(done);
  process.stdout.write(`${row(done)}\n`);
  process.stderr.write(`[bench:pipeline] ${id}: delivered ${r.delivered}/${r.records}, lost ${r.lost}, duplicated ${r.duplicated}, p99 ${r.p99Ms} ms, peak ${(r.peakRssBytes / 1024 / 1024).toFixed(1)} MiB\n`);
}

try {
  for (const { label, b, scenarios } of binaries) {
    await run('a', label, scenarios, () => burstWithLateSidecar(b, loki, { records, padChars, lateMs: 5000, maxMs }));
    await run('b', label, scenarios, () => burstWithSidecarStop(b, loki, { records, padChars, signal: 'SIGKILL', maxMs }));
    await run('c', label, scenarios, () => burstWithSidecarStop(b, loki, { records, padChars, signal: 'SIGTERM', maxMs }));
    await run('d', label, scenarios, () => appKilled(b, loki, { padChars: 5000, newRunRecords: 2000, maxMs }));
    await run('e', label, scenarios, () => steadyRate(b, loki, { perSecond: 2000, seconds: rateSeconds, padChars, maxMs }));
  }
} finally {
  await loki.stop();
  cpuLimit?.remove();
}

const peak = Math.max(...rows.filter((x) => x.sidecar === binaries[0]!.label).map((x) => x.r.peakRssBytes));
process.stdout.write(`\nsidecar peak RSS over all scenarios (${binaries[0]!.label}): ${mib(peak)} MiB; a limit with 30 % headroom: ≥ ${mib(peak / 0.7)} MiB\n`);
for (const { id, r } of rows) {
  if (id === 'd') process.stdout.write(`d: lines of the killed run on disk ${r.killedRunOnDisk}, delivered ${r.killedRunDeliveredOfDisk}; torn lines on disk ${r.tornOnDisk}; new run's first record: ${String(r.newRunFirstRecord?.event ?? 'unparseable')}\n`);
}
