/**
 * Log rate benchmark: how many bytes of log the service writes per second, quiet (only the probes
 * and scrapes the k8s manifests schedule) and at its busiest sustained load (its analysis workers
 * fed short recordings back to back), and what a 2-hour Loki outage therefore asks of the
 * sidecar's disk buffer (storage.total_limit_size of the loki output). Prints a table; not a test.
 *
 *   npx pnpm@10.34.9 bench:log-rate            (BENCH_ANALYSES=30 BENCH_SECONDS=5)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildPipeline, kubernetesOptions } from '@guitar-backend/fluent-config';
import { defaultLogSettings } from '@guitar-backend/logger';
import { find, loadK8s, readRepo, repoRoot } from '../test/helpers.js';
import { withApp } from '../test/app-process.js';

const ANALYSES = Number(process.env.BENCH_ANALYSES ?? 30);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const OUTAGE_S = 2 * 3600;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-rate-bench-'));
const logDir = path.join(dir, 'logs');
const logBytes = (): number => (fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((f) => f.endsWith('.log')).reduce((n, f) => n + fs.statSync(path.join(logDir, f)).size, 0) : 0);

// What the cluster calls, and how often: the app's probes and Prometheus's scrape.
const app = (find(loadK8s(), 'Deployment', 'guitar-backend') as any).spec.template.spec.containers.find((c: any) => c.name === 'app');
const workers = app.env.find((e: any) => e.name === 'ANALYSIS_WORKERS').value as string;
const scrapeSeconds = Number(/scrape_interval: (\d+)s/.exec(readRepo('deploy/prometheus/prometheus-k8s.yml'))?.[1]);
const calls: Array<{ path: string; perSecond: number }> = [
  { path: app.livenessProbe.httpGet.path, perSecond: 1 / app.livenessProbe.periodSeconds },
  { path: app.readinessProbe.httpGet.path, perSecond: 1 / app.readinessProbe.periodSeconds },
  { path: '/metrics', perSecond: 1 / scrapeSeconds },
];

const wav = path.join(dir, 'take.wav');
const made = spawnSync(process.execPath, [path.join(repoRoot, 'packages/app/dist/src/samples/cli.js'), '--out', wav, '--seconds', String(SECONDS), '--style', 'lick'], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(made.stderr);
const upload = fs.readFileSync(wav);

const rows: Array<[string, string]> = [];
await withApp(
  async (url) => {
    // Quiet: bytes per probe/scrape request, times the calls per second the manifests schedule.
    let quietPerSecond = 0;
    for (const call of calls) {
      const before = logBytes();
      for (let i = 0; i < 50; i++) await (await fetch(`${url}${call.path}`)).arrayBuffer();
      await new Promise((r) => setTimeout(r, 300));
      const perRequest = (logBytes() - before) / 50;
      quietPerSecond += perRequest * call.perSecond;
      rows.push([`GET ${call.path} every ${(1 / call.perSecond).toFixed(0)} s`, `${perRequest.toFixed(0)} B per request`]);
    }
    rows.push(['quiet (probes and scrapes only)', `${quietPerSecond.toFixed(0)} B/s, ${((quietPerSecond * OUTAGE_S) / 1e6).toFixed(1)} MB per 2 h`]);

    // Busiest: as many analyses at once as there are workers, back to back.
    const before = logBytes();
    const started = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next++ < ANALYSES) {
        const form = new FormData();
        form.append('file', new Blob([upload], { type: 'audio/wav' }), 'take.wav');
        const res = await fetch(`${url}/api/analyze`, { method: 'POST', body: form });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`analysis answered ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: Number(workers) }, worker));
    await new Promise((r) => setTimeout(r, 300));
    const seconds = (performance.now() - started) / 1000;
    const busyPerSecond = (logBytes() - before) / seconds + quietPerSecond;
    rows.push([`busiest: ${ANALYSES} analyses of ${SECONDS} s recordings, ${workers} worker(s)`, `${((logBytes() - before) / ANALYSES).toFixed(0)} B per analysis, ${(ANALYSES / seconds).toFixed(2)} analyses/s`]);
    const twoHours = busyPerSecond * OUTAGE_S;
    rows.push(['busiest (with probes and scrapes)', `${busyPerSecond.toFixed(0)} B/s, ${(twoHours / 1e6).toFixed(1)} MB per 2 h`]);

    const loki = buildPipeline(defaultLogSettings, kubernetesOptions()).outputs.find((o) => o.plugin === 'loki');
    const limit = loki?.properties.find((p) => p.key === 'storage.total_limit_size')?.value ?? '(none)';
    const m = /^(\d+)([KMG])$/.exec(limit);
    const limitBytes = m ? Number(m[1]) * 1024 ** (' KMG'.indexOf(m[2]!)) : NaN;
    rows.push(['loki output storage.total_limit_size', `${limit} = ${(limitBytes / 1e6).toFixed(0)} MB: ${(limitBytes / twoHours).toFixed(2)} × the busiest 2 h`]);
    const volume = (find(loadK8s(), 'Deployment', 'guitar-backend') as any).spec.template.spec.volumes.find((v: any) => v.name === 'logs').emptyDir.sizeLimit;
    rows.push(['log volume (emptyDir sizeLimit)', `${volume}; the app's own files: ${defaultLogSettings.rotation.keepFiles} × ${defaultLogSettings.rotation.maxFileBytes / 1024 / 1024} MiB`]);
  },
  { env: { LOG_DIR: logDir, ANALYSIS_WORKERS: workers } },
);

const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
fs.rmSync(dir, { recursive: true, force: true });
