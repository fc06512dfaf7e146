import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipeline, composeOptions, kubernetesOptions, pluginSpecs, genericProperties, findPlugin } from '../src/index.js';
import { defaultLogSettings } from '@guitar-backend/logger';
import { loadSchema, schemaProperties } from './helpers.js';
import type { PipelineModel } from '../src/index.js';

const schema = loadSchema();

test('the schema file is the one a real Fluent Bit 4.2.8 printed', () => {
  assert.equal(schema['fluent-bit'].version, '4.2.8');
});

test('every property this package knows, for every plugin it renders, is one Fluent Bit 4.2.8 lists for that plugin', () => {
  for (const plugin of pluginSpecs) {
    const known = schemaProperties(schema, plugin.kind, plugin.name);
    assert.ok(known, `${plugin.kind} ${plugin.name} is not compiled into the schema's Fluent Bit`);
    for (const p of [...genericProperties[plugin.kind], ...plugin.properties]) {
      if (p.name === 'name') continue;
      if (p.unlistedInSchema) {
        assert.ok(!known.has(p.name), `${p.name} is marked unlisted but the schema lists it for ${plugin.name}`);
        continue;
      }
      assert.ok(known.has(p.name), `${plugin.kind} ${plugin.name}: '${p.name}' is not in the 4.2.8 schema`);
    }
  }
});

test('the keys that broke the hand-written config are unknown to both the schema and this package', () => {
  assert.ok(!schemaProperties(schema, 'output', 'loki')!.has('batch_size'));
  assert.ok(!schemaProperties(schema, 'output', 'loki')!.has('batch_wait'));
  assert.ok(!schemaProperties(schema, 'input', 'tail')!.has('follow_symlinks'));
  assert.ok(!findPlugin('output', 'loki')!.properties.some((p) => p.name === 'batch_size'));
  assert.ok(!findPlugin('input', 'tail')!.properties.some((p) => p.name === 'follow_symlinks'));
});

function emitted(model: PipelineModel): Array<{ kind: 'input' | 'filter' | 'output'; plugin: string; key: string }> {
  return [...model.inputs, ...model.filters, ...model.outputs].flatMap((s) => s.properties.map((p) => ({ kind: s.kind, plugin: s.plugin, key: p.key.toLowerCase() })));
}

test('every property the generator emits, in both variants and with every optional output on, is in the schema', () => {
  const everything = kubernetesOptions({
    outputs: {
      loki: { host: 'loki', port: 3100, structuredMetadata: ['request_id'], tenantId: 't', tls: true },
      prometheusExporterPort: 2021,
      stdout: true,
      elasticsearch: { host: 'es', port: 9200, index: 'gb', tls: true },
      opensearch: { host: 'os', port: 9200, index: 'gb' },
      http: { host: 'collector', port: 8080, uri: '/ingest', tls: true },
      file: { path: '/tmp', file: 'gb.log' },
      cloudwatchLogs: { region: 'eu-west-1', logGroupName: 'gb', logStreamPrefix: 'pod-' },
    },
  });
  let count = 0;
  for (const options of [kubernetesOptions(), composeOptions(), everything]) {
    for (const e of emitted(buildPipeline(defaultLogSettings, options))) {
      const spec = [...genericProperties[e.kind], ...(findPlugin(e.kind, e.plugin)?.properties ?? [])].find((p) => p.name === e.key);
      if (spec?.unlistedInSchema) continue;
      assert.ok(schemaProperties(schema, e.kind, e.plugin)?.has(e.key), `${e.kind} ${e.plugin} '${e.key}' is not in the 4.2.8 schema`);
      count++;
    }
  }
  assert.ok(count > 80);
});
