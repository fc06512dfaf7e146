import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { defaultLogSettings, listLogFiles } from '@guitar-backend/logger';
import { find, loadK8s, parseStrict, readRepo, repoRoot } from './helpers.js';
import { freePort, getJson, onPath, Running, statusOf, waitFor } from './processes.js';
import { lokiConfig, prometheusConfig, writeFluentBitConfig, type StackPorts } from './stack-configs.js';

/*
 * The compose stack run here without a container engine: the built app, Fluent Bit with the
 * generated compose config, Loki with deploy/loki/loki.yaml and Prometheus with
 * deploy/prometheus/prometheus-compose.yml, wired as docker-compose.yml wires them (one log
 * directory shared by the app and Fluent Bit; everything on 127.0.0.1 ports).
 *
 * Changed from the files, besides paths, hosts and ports:
 * - Prometheus scrapes and evaluates every 2 s instead of 15 s (the waits are seconds), and
 *   FluentBitNotReading's expression is asked with a 30 s window instead of 10 minutes.
 * - For the outages, the time scale shrinks with the mechanism unchanged: the real config survives
 *   a 2 h outage because Loki's out-of-order window (max_chunk_age / 2 = 3 h) exceeds the outage
 *   plus the sidecar's retry cap (60 s). Here the outage lasts 20 s, the sidecar's retry cap is 5 s,
 *   and Loki comes back with max_chunk_age 2m (a 60 s window: nothing lost) or 20s (a 10 s window,
 *   as the old 1 h window was against 2 h: lines lost, and counted).
 */

const fluentBit = process.env.FLUENT_BIT_BIN;
const loki = process.env.LOKI_BIN;
const prometheus = process.env.PROMETHEUS_BIN ?? onPath('prometheus');
const appMain = path.join(repoRoot, 'packages/app/dist/src/main.js');
const missing = [
  fluentBit ? null : 'FLUENT_BIT_BIN is not set (.ci/run sets it to ../shared/bin/fluent-bit-*)',
  loki ? null : 'LOKI_BIN is not set (.ci/run sets it to ../shared/bin/loki-*)',
  prometheus ? null : "no prometheus: set PROMETHEUS_BIN or install Debian's prometheus package (.ci/run does)",
].filter((m): m is string => m !== null);

const POD = 'stack-pod';
const OUTAGE_MS = 20_000;

interface LokiStream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

/** The app's newest log file (the logger's own listing, newest first): where the app appends now. */
function currentLogFile(dir: string): string {
  const newest = listLogFiles({ dir, file: defaultLogSettings.file })[0];
  assert.ok(newest, `no log file of the contract's naming in ${dir}`);
  return newest.path;
}

/** A record as the logger writes it, appended to the app's current file (the README's pipeline check). */
function appendRecord(dir: string, record: Record<string, unknown>, time = new Date()): void {
  fs.appendFileSync(currentLogFile(dir), `${JSON.stringify({ level: 'info', time: time.toISOString(), service: 'guitar-backend', ...record })}\n`);
}

test('the compose stack without a container engine: app, Fluent Bit, Loki and Prometheus with the project\'s configs', { skip: missing.length > 0 ? missing.join('; ') : false, timeout: 300_000 }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-'));
  const dirs = { logs: path.join(root, 'logs'), loki: path.join(root, 'loki'), fluentBit: path.join(root, 'fluent-bit'), prometheus: path.join(root, 'prometheus') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d);
  const ports: StackPorts = { app: await freePort(), lokiHttp: await freePort(), lokiGrpc: await freePort(), fluentBitHttp: await freePort(), fluentBitMetrics: await freePort(), prometheus: await freePort() };
  const lokiUrl = `http://127.0.0.1:${ports.lokiHttp}`;
  const promUrl = `http://127.0.0.1:${ports.prometheus}`;
  const appUrl = `http://127.0.0.1:${ports.app}`;
  const fbUrl = `http://127.0.0.1:${ports.fluentBitHttp}`;
  const processes: Running[] = [];
  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Running => {
    const p = new Running(name, command, args, { ...process.env, ...env });
    processes.push(p);
    return p;
  };
  const outputs = (): string => processes.map((p) => `--- ${p.name} (${p.running ? 'running' : 'exited'}):\n${p.output().slice(-3000)}`).join('\n');

  const startLoki = (overrides: Record<string, string> = {}): Running => {
    const file = path.join(root, `loki-${processes.length}.yaml`);
    fs.writeFileSync(file, lokiConfig(dirs.loki, ports, overrides));
    return start('loki', loki!, [`-config.file=${file}`]);
  };
  const lokiReady = (): Promise<boolean> => waitFor('Loki /ready', async () => (await statusOf(`${lokiUrl}/ready`)) === 200, 60_000, 500);
  const logql = async (query: string, sinceMs = 3_600_000): Promise<LokiStream[]> => {
    const params = new URLSearchParams({ query, start: String((Date.now() - sinceMs) * 1e6), end: String((Date.now() + 60_000) * 1e6), limit: '5000', direction: 'forward' });
    return (await getJson<{ data: { result: LokiStream[] } }>(`${lokiUrl}/loki/api/v1/query_range?${params}`)).data.result;
  };
  const lokiDiscarded = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${lokiUrl}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const [, reason, value] of text.matchAll(/^loki_discarded_samples_total\{[^}]*reason="([^"]+)"[^}]*\} (\S+)$/gm)) if (Number(value) > 0) out[reason!] = (out[reason!] ?? 0) + Number(value);
    return out;
  };
  const promQuery = async (query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> =>
    (await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(`${promUrl}/api/v1/query?${new URLSearchParams({ query })}`)).data.result;

  try {
    // Start order of docker-compose.yml: Loki, Fluent Bit (before the app: the app depends on it), the app, Prometheus.
    let lokiProcess = startLoki();
    await lokiReady();
    const fbConfig = writeFluentBitConfig(dirs.fluentBit, dirs.logs, ports, 5);
    const version = spawnSync(fluentBit!, ['--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, `${fluentBit} does not run (needs Debian's libyaml-0-2 libssl3 libsqlite3-0): ${version.stderr}`);
    const fb = start('fluent-bit', fluentBit!, ['-c', fbConfig], { NODE_NAME: 'stack-test', HOSTNAME: POD });
    const sidecar = (find(loadK8s(), 'Deployment', 'guitar-backend') as any).spec.template.spec.initContainers.find((c: any) => c.name === 'fluent-bit');
    const probePaths: string[] = [sidecar.startupProbe, sidecar.livenessProbe, sidecar.readinessProbe].filter(Boolean).map((p: any) => p.httpGet.path);
    const probesPass = async (): Promise<boolean> => (await Promise.all(probePaths.map((p) => statusOf(`${fbUrl}${p}`)))).every((s) => s === 200);
    await waitFor('Fluent Bit answering its probe paths', probesPass, 30_000);
    start('app', process.execPath, [appMain], { PORT: String(ports.app), HOST: '127.0.0.1', LOG_DIR: dirs.logs, LOG_STDOUT: 'off', ANALYSIS_WORKERS: '1' });
    await waitFor('the app /api/health', async () => (await statusOf(`${appUrl}/api/health`)) === 200, 30_000);
    const rules = path.join(dirs.prometheus, 'rules.yml');
    fs.copyFileSync(path.join(repoRoot, 'deploy/prometheus/rules.yml'), rules);
    fs.writeFileSync(path.join(dirs.prometheus, 'prometheus.yml'), prometheusConfig(rules, ports, 2));
    start('prometheus', prometheus!, [`--config.file=${path.join(dirs.prometheus, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dirs.prometheus, 'data')}`, `--web.listen-address=127.0.0.1:${ports.prometheus}`]);
    await waitFor('Prometheus /-/ready', async () => (await statusOf(`${promUrl}/-/ready`)) === 200, 30_000);

    await t.test('an uploaded recording\'s analysis.start and analysis.end are in Loki, found by the dashboard\'s own LogQL, in one stream for the pod', async () => {
      const wav = path.join(root, 'take.wav');
      const made = spawnSync(process.execPath, [path.join(repoRoot, 'packages/app/dist/src/samples/cli.js'), '--out', wav, '--seconds', '5', '--style', 'lick'], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const form = new FormData();
      form.append('file', new Blob([fs.readFileSync(wav)], { type: 'audio/wav' }), 'take.wav');
      const res = await fetch(`${appUrl}/api/analyze`, { method: 'POST', body: form });
      const body = (await res.json()) as { request_id: string };
      assert.equal(res.status, 200, JSON.stringify(body));
      const dashboard = JSON.parse(readRepo('deploy/grafana/dashboards/guitar-backend.json')) as { panels: Array<{ type: string; targets: Array<{ expr: string }> }> };
      const panelQuery = dashboard.panels.flatMap((p) => (p.type === 'logs' ? p.targets.map((x) => x.expr) : [])).find((e) => e.includes('analysis.start') && e.includes('analysis.end'));
      assert.ok(panelQuery, 'the dashboard has a logs panel for analysis.start / analysis.end');
      const query = `${panelQuery} | request_id="${body.request_id}"`;
      const events = await waitFor(
        `analysis.start and analysis.end of ${body.request_id} in Loki`,
        async () => {
          const found = (await logql(query)).flatMap((s) => s.values.map(([, line]) => (JSON.parse(line) as { event: string }).event));
          return found.includes('analysis.start') && found.includes('analysis.end') ? found : undefined;
        },
        30_000,
        1000,
      ).catch((err: Error) => assert.fail(`${err.message}\n${outputs()}`));
      assert.ok(events.includes('analysis.start') && events.includes('analysis.end'));
      // One stream for the pod: fixed labels only, level in structured metadata.
      const series = await getJson<{ data: Array<Record<string, string>> }>(`${lokiUrl}/loki/api/v1/series?${new URLSearchParams({ 'match[]': '{job="guitar-backend"}', start: String((Date.now() - 3_600_000) * 1e6) })}`);
      assert.equal(series.data.length, 1, JSON.stringify(series.data));
      // Loki adds service_name itself (from job); nothing comes from the records.
      assert.deepEqual(series.data[0], { job: 'guitar-backend', env: 'local', pod: POD, service_name: 'guitar-backend' });
      const errorsQuery = '{job="guitar-backend"} | level="info" | json | event="analysis.end"';
      assert.ok((await logql(errorsQuery)).length > 0, 'level filters as structured metadata');
    });

    await t.test('Prometheus scrapes the app, Fluent Bit and Loki: every target up, and both sides of FluentBitNotReading exist for the pod', async () => {
      const targets = await waitFor(
        'every Prometheus target up',
        async () => {
          const active = (await getJson<{ data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> } }>(`${promUrl}/api/v1/targets`)).data.activeTargets;
          return active.length >= 4 && active.every((a) => a.health === 'up') ? active : undefined;
        },
        40_000,
        1000,
      ).catch(async (err: Error) => assert.fail(`${err.message}: ${JSON.stringify((await getJson<any>(`${promUrl}/api/v1/targets`)).data.activeTargets.map((a: any) => [a.labels.job, a.health, a.lastError]))}`));
      assert.deepEqual(targets.map((a) => a.labels.job).sort(), ['fluent-bit', 'guitar-backend', 'loki', 'prometheus']);
      // The alert compares these two per pod; a renamed metric or label would silence it.
      const written = await waitFor('guitar_backend_log_lines_written_total', async () => (await promQuery('sum by (pod) (guitar_backend_log_lines_written_total) > 0'))[0], 20_000, 1000);
      const read = await waitFor('fluentbit_input_records_total of the tail input', async () => (await promQuery('sum by (pod) (fluentbit_input_records_total{name=~"tail.*"}) > 0'))[0], 30_000, 1000);
      assert.equal(written.metric.pod, read.metric.pod);
      assert.ok((await promQuery('loki_distributor_lines_received_total')).length > 0, 'Loki\'s own metrics are scraped');
      // The k8s probe paths of Loki and Prometheus, asked of the running programs.
      const docs = loadK8s();
      for (const [name, base] of [['loki', lokiUrl], ['prometheus', promUrl]] as const) {
        const container = (find(docs, 'Deployment', name) as any).spec.template.spec.containers[0];
        for (const probe of [container.readinessProbe, container.livenessProbe]) assert.equal(await statusOf(`${base}${probe.httpGet.path}`), 200, `${name} ${probe.httpGet.path}`);
      }
    });

    await t.test('lines Loki refuses (10 days old, 11 minutes ahead) are counted, fire LokiDiscardingLogs, and leave the sidecar\'s probes passing', async () => {
      const now = Date.now();
      for (let i = 0; i < 8; i++) {
        appendRecord(dirs.logs, { event: 'refused.check', seq: i, message: 'too old for Loki' }, new Date(now - 10 * 86_400_000));
        await new Promise((r) => setTimeout(r, 1200)); // one flush, one push, one refusal each
      }
      appendRecord(dirs.logs, { event: 'refused.check', seq: 99, message: 'too far ahead for Loki' }, new Date(now + 11 * 60_000));
      appendRecord(dirs.logs, { event: 'accepted.check', message: 'a good line after refused ones' });
      const discarded = await waitFor('Loki counting the refused lines', async () => {
        const d = await lokiDiscarded();
        return (d.greater_than_max_sample_age ?? 0) >= 8 && (d.too_far_in_future ?? 0) >= 1 ? d : undefined;
      }, 20_000, 500).catch(async (err: Error) => assert.fail(`${err.message}: ${JSON.stringify(await lokiDiscarded())}\n${outputs()}`));
      assert.ok(discarded);
      await waitFor('the good line in Loki', async () => (await logql('{job="guitar-backend"} | json | event="accepted.check"', 600_000)).length > 0, 20_000, 1000);
      const firing = await waitFor('LokiDiscardingLogs firing', async () => {
        const alerts = (await getJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>(`${promUrl}/api/v1/alerts`)).data.alerts;
        const mine = alerts.filter((a) => a.labels.alertname === 'LokiDiscardingLogs' && a.state === 'firing').map((a) => a.labels.reason);
        return mine.includes('greater_than_max_sample_age') && mine.includes('too_far_in_future') ? mine : undefined;
      }, 30_000, 1000);
      assert.ok(firing.length >= 2);
      const errors = await waitFor('Fluent Bit counting its failed pushes', async () => {
        const found = await promQuery('sum(fluentbit_output_errors_total{name=~"loki.*"})');
        return Number(found[0]?.value[1] ?? 0) >= 8 ? Number(found[0]?.value[1]) : undefined;
      }, 30_000, 1000);
      assert.ok(errors >= 8);
      assert.ok(await probesPass(), `an output with errors keeps the sidecar's probe paths (${probePaths.join(', ')}) at 200`);
      assert.ok(fb.running);
    });

    await t.test('a stuck sidecar (frozen with SIGSTOP: not reading, not shipping) is detected: its liveness path stops answering, TargetDown and FluentBitNotReading (window shortened to 30 s) find it', async () => {
      const rules = parseStrict(readRepo('deploy/prometheus/rules.yml'), 'rules.yml') as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> };
      const expr = (alert: string): string => {
        const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
        assert.ok(rule, `no alert ${alert}`);
        return rule.expr;
      };
      const notReading = expr('FluentBitNotReading');
      assert.match(notReading, /\[10m\]/);
      const shortened = notReading.replaceAll('[10m]', '[30s]');
      assert.deepEqual(await promQuery(shortened), [], 'quiet while the sidecar reads');
      fb.signal('SIGSTOP');
      try {
        await waitFor('the liveness path failing', async () => !(await probesPass()), 10_000, 500);
        const down = await waitFor('TargetDown\'s expression finding the sidecar', async () => (await promQuery(expr('TargetDown'))).find((r) => r.metric.job === 'fluent-bit'), 20_000, 1000);
        assert.ok(down);
        const found = await waitFor('FluentBitNotReading\'s expression finding the pod', async () => (await promQuery(shortened))[0], 60_000, 2000);
        assert.ok(found.metric.pod);
      } finally {
        fb.signal('SIGCONT');
      }
      appendRecord(dirs.logs, { event: 'resumed.check', message: 'after the sidecar resumed' });
      await waitFor('the sidecar shipping again', async () => (await logql('{job="guitar-backend"} | json | event="resumed.check"', 600_000)).length > 0, 30_000, 1000);
      assert.ok(await probesPass());
    });

    /** Stops Loki for OUTAGE_MS while the app writes (`event` records, numbered); restarts it with `maxChunkAge`. Returns how many were written. */
    const outage = async (event: string, maxChunkAge: string): Promise<number> => {
      await lokiProcess.stop();
      const outageStart = Date.now();
      let seq = 0;
      const probeResults: boolean[] = [];
      while (Date.now() - outageStart < OUTAGE_MS) {
        appendRecord(dirs.logs, { event, seq: seq++, message: 'written while Loki is down' });
        await fetch(`${appUrl}/api/health`).then((r) => r.arrayBuffer());
        if (seq % 20 === 0) probeResults.push(await probesPass());
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(probeResults.length > 0 && probeResults.every(Boolean), 'the sidecar\'s probe paths answer 200 while its output fails');
      lokiProcess = startLoki({ 'ingester.max_chunk_age': maxChunkAge });
      await lokiReady();
      return seq;
    };
    const seqsInLoki = async (event: string): Promise<Set<number>> =>
      new Set((await logql(`{job="guitar-backend"} | json | event="${event}"`, 600_000)).flatMap((s) => s.values.map(([, line]) => (JSON.parse(line) as { seq: number }).seq)));

    await t.test(`a Loki outage (${OUTAGE_MS / 1000} s, within a 60 s window) loses nothing: the sidecar buffers and retries, Loki takes the backlog`, async () => {
      const written = await outage('outage.check', '2m');
      const back = Date.now();
      // The app keeps writing (Prometheus scrapes it every 2 s): fresh lines reach Loki before old chunks' retries.
      const delivered = await waitFor(`all ${written} lines written during the outage in Loki`, async () => {
        const seqs = await seqsInLoki('outage.check');
        return seqs.size === written ? seqs : undefined;
      }, 60_000, 2000).catch(async (err: Error) => assert.fail(`${err.message}: ${(await seqsInLoki('outage.check')).size} of ${written}, discarded ${JSON.stringify(await lokiDiscarded())}\n${outputs()}`));
      assert.equal(delivered.size, written);
      t.diagnostic(`outage within the window: ${delivered.size} of ${written} lines stored, all in Loki ${((Date.now() - back) / 1000).toFixed(0)} s after it was ready`);
      assert.deepEqual(await lokiDiscarded(), {}, 'Loki refused nothing of the backlog');
      assert.ok(fb.running && (await probesPass()));
    });

    await t.test(`an outage longer than Loki's window (${OUTAGE_MS / 1000} s against 10 s, as 2 h was against the old 1 h) loses lines, and says so: too_far_behind, LokiDiscardingLogs`, async () => {
      const written = await outage('long-outage.check', '20s');
      const discarded = await waitFor('Loki refusing part of the backlog as too far behind', async () => {
        const d = await lokiDiscarded();
        return (d.too_far_behind ?? 0) > 0 ? d : undefined;
      }, 40_000, 1000).catch(async (err: Error) => assert.fail(`${err.message}: ${JSON.stringify(await lokiDiscarded())}, ${(await seqsInLoki('long-outage.check')).size} of ${written} in Loki`));
      const firing = await waitFor('LokiDiscardingLogs firing for too_far_behind', async () => {
        const alerts = (await getJson<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>(`${promUrl}/api/v1/alerts`)).data.alerts;
        return alerts.some((a) => a.labels.alertname === 'LokiDiscardingLogs' && a.labels.reason === 'too_far_behind' && a.state === 'firing') || undefined;
      }, 30_000, 1000);
      assert.ok(firing);
      const stored = (await seqsInLoki('long-outage.check')).size;
      assert.ok(stored < written, `${stored} of ${written} stored although ${discarded.too_far_behind} were refused`);
      t.diagnostic(`outage beyond the window: ${stored} of ${written} lines stored, Loki refused ${discarded.too_far_behind} as too_far_behind`);
    });
  } finally {
    for (const p of [...processes].reverse()) await p.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
