import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { runCli } from '../src/index.js';
import { parseStrict, readRepo, repoRoot } from './helpers.js';
import { withApp } from './app-process.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const noPromtool = promtool ? false : "promtool is not installed (.ci/run installs Debian's prometheus package)";

interface Panel {
  title: string;
  type: string;
  datasource: { uid: string };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
  fieldConfig?: { defaults?: { links?: Array<{ url: string }> } };
}
const dashboard = JSON.parse(readRepo('deploy/grafana/dashboards/guitar-backend.json')) as { uid: string; panels: Panel[] };
const datasources = parseStrict(readRepo('deploy/grafana/provisioning/datasources/datasources.yaml'), 'datasources.yaml') as { datasources: Array<{ uid: string; type: string; url: string }> };

/** Error nodes (⚠) a lezer parse leaves where the text does not follow the grammar. */
function syntaxErrors(parser: typeof promqlParser, text: string): string[] {
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
    },
  });
  return errors;
}

test('promtool check rules: the alerting rules are valid PromQL and well-formed', { skip: noPromtool }, () => {
  const r = spawnSync('promtool', ['check', 'rules', 'rules.yml'], { encoding: 'utf8', cwd: path.join(repoRoot, 'deploy/prometheus') });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 9 rules found/);
});

test('promtool test rules: OOM kill, memory pressure, Fluent Bit not reading or not shipping, output errors, Loki refusing lines and target down fire (and stay quiet otherwise)', { skip: noPromtool }, () => {
  const r = spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { encoding: 'utf8', cwd: path.join(repoRoot, 'deploy/prometheus') });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // A wrong expectation must fail: the test file is not vacuous.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-'));
  fs.copyFileSync(path.join(repoRoot, 'deploy/prometheus/rules.yml'), path.join(dir, 'rules.yml'));
  fs.writeFileSync(path.join(dir, 'rules.test.yml'), readRepo('deploy/prometheus/rules.test.yml').replace('values: "0 0 0 1 1 1"', 'values: "0 0 0 0 0 0"'));
  assert.notEqual(spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { encoding: 'utf8', cwd: dir }).status, 0);
});

test('every PromQL and LogQL query in the dashboard parses; the parsers do catch a broken one', () => {
  let promCount = 0;
  let lokiCount = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      if (target.datasource.uid === 'prometheus') {
        promCount++;
        assert.deepEqual(syntaxErrors(promqlParser, target.expr), [], `${panel.title}: ${target.expr}`);
      } else {
        lokiCount++;
        assert.deepEqual(syntaxErrors(logqlParser, target.expr), [], `${panel.title}: ${target.expr}`);
      }
    }
    for (const link of panel.fieldConfig?.defaults?.links ?? []) {
      const panes = JSON.parse(decodeURIComponent(link.url.split('panes=')[1] ?? '')) as { a: { datasource: string; queries: Array<{ expr: string }> } };
      assert.equal(panes.a.datasource, 'loki');
      for (const q of panes.a.queries) assert.deepEqual(syntaxErrors(logqlParser, q.expr), [], `${panel.title} link: ${q.expr}`);
    }
  }
  assert.ok(promCount >= 15 && lokiCount >= 3, `${promCount} PromQL, ${lokiCount} LogQL`);
  assert.notDeepEqual(syntaxErrors(promqlParser, 'sum(rate(x[5m]) by'), []);
  assert.notDeepEqual(syntaxErrors(logqlParser, '{job="x" | json'), []);
});

test('the dashboard has the panels operators need, on provisioned data sources, with a metrics-to-logs link', () => {
  const uids = new Set(datasources.datasources.map((d) => d.uid));
  assert.deepEqual([...uids].sort(), ['loki', 'prometheus']);
  for (const panel of dashboard.panels) {
    assert.ok(uids.has(panel.datasource.uid), panel.title);
    for (const t of panel.targets) assert.ok(uids.has(t.datasource.uid), panel.title);
  }
  const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
  for (const needed of ['requests per second', 'latency', 'analysis duration', 'audio analysed', 'rss against the memory limit', 'memory.pressure', 'errors', 'fluent bit records in / out', 'loki: lines refused']) {
    assert.ok(titles.includes(needed), `no panel for ${needed}`);
  }
  const rss = dashboard.panels.find((p) => p.title === 'RSS against the memory limit');
  assert.ok((rss?.fieldConfig?.defaults?.links ?? []).length > 0, 'metrics → logs link');
  assert.ok(dashboard.panels.some((p) => p.type === 'logs' && p.targets.some((t) => /level=~"error\|fatal"/.test(t.expr))));
  const refused = dashboard.panels.find((p) => p.title.toLowerCase().startsWith('loki: lines refused'));
  assert.ok(refused?.targets.some((t) => /loki_discarded_samples_total/.test(t.expr)), 'the dashboard shows what Loki refused');
});

test('every guitar-backend metric the rules and the dashboard use is one the app really exports', async () => {
  const used = new Set<string>();
  for (const text of [readRepo('deploy/prometheus/rules.yml'), readRepo('deploy/grafana/dashboards/guitar-backend.json')]) {
    for (const [name] of text.matchAll(/guitar_backend_[a-z_]+|http_request_duration_seconds|process_resident_memory_bytes/g)) used.add(name.replace(/_(bucket|count|sum)$/, ''));
  }
  const exported = await withApp(async (url) => (await fetch(`${url}/metrics`)).text());
  const names = new Set([...exported.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
  assert.deepEqual([...used].filter((n) => !names.has(n)), []);
  assert.ok(used.size >= 10);
});

test('Loki runs tsdb schema v13 on the filesystem with structured metadata on; Prometheus loads the rules where they are mounted', () => {
  const loki = parseStrict(readRepo('deploy/loki/loki.yaml'), 'loki.yaml') as any;
  assert.deepEqual([loki.schema_config.configs[0].store, loki.schema_config.configs[0].schema, loki.schema_config.configs[0].object_store], ['tsdb', 'v13', 'filesystem']);
  assert.equal(loki.limits_config.allow_structured_metadata, true);
  assert.equal(loki.server.http_listen_port, 3100);
  for (const file of ['deploy/prometheus/prometheus-k8s.yml', 'deploy/prometheus/prometheus-compose.yml']) {
    const config = parseStrict(readRepo(file), file) as { rule_files: string[] };
    assert.deepEqual(config.rule_files, ['/etc/prometheus/rules.yml'], file);
  }
  assert.equal(datasources.datasources.find((d) => d.uid === 'loki')?.url, `http://loki:${loki.server.http_listen_port}`);
});

test('deploy-config check passes on the repository and fails, with a diff, on a hand-edited ConfigMap', () => {
  const io = () => {
    const o = { out: '', err: '' };
    return { o, io: { out: (t: string) => (o.out += t), err: (t: string) => (o.err += t), cwd: repoRoot } };
  };
  const clean = io();
  assert.equal(runCli(['check'], clean.io), 0, clean.o.err);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-check-'));
  fs.cpSync(path.join(repoRoot, 'deploy'), path.join(dir, 'deploy'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'k8s'), path.join(dir, 'k8s'), { recursive: true });
  const file = path.join(dir, 'k8s/30-loki-configmap.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('retention_period: 168h', 'retention_period: 24h'));
  const edited = io();
  assert.equal(runCli(['check', '--dir', dir], edited.io), 1);
  assert.match(edited.o.err, /k8s\/30-loki-configmap.yaml: differs/);
  assert.match(edited.o.err, /^-\s+retention_period: 24h$/m);
  const bad = io();
  assert.equal(runCli(['publish'], bad.io), 2);
  assert.match(bad.o.err, /unknown command 'publish'/);
});

test('Loki keeps a 2-hour backlog: its out-of-order window, age limits and query range are chosen for it, and Prometheus scrapes it', () => {
  const loki = parseStrict(readRepo('deploy/loki/loki.yaml'), 'loki.yaml') as any;
  const hours = (d: string): number => {
    const m = /^(\d+)(m|h)$/.exec(String(d));
    assert.ok(m, `unreadable duration ${d}`);
    return Number(m[1]) / (m[2] === 'm' ? 60 : 1);
  };
  const outage = 2;
  const retryCapHours = 60 / 3600; // scheduler.cap of the generated Fluent Bit config
  assert.match(readRepo('deploy/fluent-bit/fluent-bit.conf'), /scheduler\.cap\s+60\b/);
  // A line is accepted up to max_chunk_age / 2 behind the newest of its stream.
  assert.ok(hours(loki.ingester.max_chunk_age) / 2 >= outage + retryCapHours + 0.5, `max_chunk_age ${loki.ingester.max_chunk_age} leaves a window under the outage`);
  assert.ok(hours(loki.querier.query_ingesters_within) >= hours(loki.ingester.max_chunk_age), 'lines still in the ingester must be queried');
  assert.ok(hours(loki.limits_config.reject_old_samples_max_age) >= hours(loki.ingester.max_chunk_age));
  assert.equal(loki.limits_config.creation_grace_period, '10m');
  assert.ok(loki.limits_config.ingestion_burst_size_mb >= 16);
  for (const file of ['deploy/prometheus/prometheus-k8s.yml', 'deploy/prometheus/prometheus-compose.yml']) {
    const config = parseStrict(readRepo(file), file) as { scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }> }> };
    const job = config.scrape_configs.find((j) => j.job_name === 'loki');
    assert.deepEqual(job?.static_configs?.[0]?.targets, [`loki:${loki.server.http_listen_port}`], file);
  }
});
