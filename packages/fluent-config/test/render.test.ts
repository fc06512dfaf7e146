import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderVariant, renderKubernetesConfigMap, kubernetesOptions, type Variant, type GenerateOptions } from '../src/index.js';
import { defaultLogSettings } from '@guitar-backend/logger';
import { parseClassic, strictYaml } from './helpers.js';

const goldenDir = fileURLToPath(new URL('../../test/golden/', import.meta.url));

type Canonical = Record<string, Array<Record<string, string[]>>>;

function addEntry(map: Record<string, string[]>, key: string, value: string): void {
  (map[key] ??= []).push(value);
}

/** The pipeline the classic files describe, as comparable data. */
function fromClassic(config: string, parsers: string): Canonical {
  const out: Canonical = { service: [], parsers: [], inputs: [], filters: [], outputs: [] };
  for (const s of [...parseClassic(config), ...parseClassic(parsers)]) {
    const map: Record<string, string[]> = {};
    for (const [k, v] of s.entries) if (!(s.type === 'service' && k === 'parsers_file')) addEntry(map, k, v);
    const bucket = s.type === 'service' ? 'service' : s.type === 'parser' ? 'parsers' : `${s.type}s`;
    out[bucket]!.push(map);
  }
  return out;
}

/** The pipeline the YAML file describes, as the same data. */
function fromYaml(text: string): Canonical {
  const doc = strictYaml(text) as {
    service: Record<string, string>;
    parsers: Array<Record<string, string>>;
    pipeline: Record<'inputs' | 'filters' | 'outputs', Array<Record<string, string | string[]>>>;
  };
  const norm = (m: Record<string, string | string[]>): Record<string, string[]> =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), (Array.isArray(v) ? v : [v]).map(String)]));
  return {
    service: [norm(doc.service)],
    parsers: doc.parsers.map(norm),
    inputs: doc.pipeline.inputs.map(norm),
    filters: doc.pipeline.filters.map(norm),
    outputs: doc.pipeline.outputs.map(norm),
  };
}

const allOutputs: GenerateOptions = {
  k8s: kubernetesOptions({
    outputs: {
      loki: { host: 'loki.example', port: 443, structuredMetadata: ['request_id'], tenantId: 'team-a', tls: true, extraLabels: { cluster: 'k3s' } },
      prometheusExporterPort: 2021,
      stdout: true,
      elasticsearch: { host: 'es', port: 9200, index: 'gb' },
      opensearch: { host: 'os', port: 9200, index: 'gb' },
      http: { host: 'collector', port: 8080, uri: '/ingest' },
      file: { path: '/tmp', file: 'gb.log' },
      cloudwatchLogs: { region: 'eu-west-1', logGroupName: 'gb', logStreamPrefix: 'pod-' },
    },
  }),
};

for (const [label, variant, options] of [
  ['k8s', 'k8s', {}],
  ['compose', 'compose', {}],
  ['k8s with every optional output', 'k8s', allOutputs],
] as Array<[string, Variant, GenerateOptions]>) {
  test(`classic and YAML renderings describe the same pipeline (${label})`, () => {
    const r = renderVariant(variant, options);
    const classic = fromClassic(r.classic, r.parsers);
    assert.deepEqual(fromYaml(r.yaml), classic);
    assert.ok(classic.inputs!.length >= 2 && classic.filters!.length === 2 && classic.outputs!.length >= 3);
  });
}

const golden: Array<[string, () => string]> = [
  ['k8s-fluent-bit.conf', () => renderVariant('k8s').classic],
  ['k8s-parsers.conf', () => renderVariant('k8s').parsers],
  ['k8s-fluent-bit.yaml', () => renderVariant('k8s').yaml],
  ['compose-fluent-bit.conf', () => renderVariant('compose').classic],
  ['configmap.yaml', () => renderKubernetesConfigMap()],
];

for (const [name, render] of golden) {
  test(`default rendering matches the golden file ${name}`, () => {
    const file = `${goldenDir}${name}`;
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, render());
    assert.equal(render(), fs.readFileSync(file, 'utf8'), `${name} changed: review, then run with UPDATE_GOLDEN=1`);
  });
}

test('the ConfigMap is strict YAML whose data are exactly the k8s renderings', () => {
  const cm = strictYaml(renderKubernetesConfigMap()) as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
  const r = renderVariant('k8s');
  assert.equal(cm.kind, 'ConfigMap');
  assert.deepEqual(cm.data, { 'fluent-bit.conf': r.classic, 'parsers.conf': r.parsers, 'fluent-bit.yaml': r.yaml });
  assert.deepEqual(fromYaml(cm.data['fluent-bit.yaml']!), fromClassic(cm.data['fluent-bit.conf']!, cm.data['parsers.conf']!));
});

test('what the pipeline needs from the logger is taken from its settings', () => {
  const r = renderVariant('k8s', { settings: { ...defaultLogSettings, dir: '/data/logs', maxLineBytes: 100_000 } });
  const tail = parseClassic(r.classic).find((s) => s.entries.some(([k, v]) => k === 'name' && v === 'tail'));
  assert.ok(tail);
  const get = (k: string): string | undefined => tail.entries.find(([key]) => key === k)?.[1];
  assert.equal(get('path'), '/data/logs/app.*.log');
  assert.equal(get('db'), '/data/logs/fluent-bit-tail.db');
  assert.ok(Number.parseInt(get('buffer_max_size') ?? '0', 10) * 1024 >= 100_000);
  const parser = parseClassic(r.parsers)[0];
  assert.deepEqual(parser?.entries.filter(([k]) => k.startsWith('time_')), [
    ['time_key', defaultLogSettings.timeKey],
    ['time_format', defaultLogSettings.time.strftime],
    ['time_keep', 'On'],
  ]);
});
