import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  buildPipeline,
  composeOptions,
  kubernetesOptions,
  pluginSpecs,
  genericProperties,
  findPlugin,
  SCHEMA_RELEASES,
  schemaFile,
  schemaForVersion,
  schemaProperties,
  validatePipeline,
} from '../src/index.js';
import { defaultLogSettings } from '@guitar-backend/logger';
import type { PipelineModel } from '../src/index.js';

const releases = Object.entries(SCHEMA_RELEASES);

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

test('the package keeps the schemas of Fluent Bit 4.2.8 and 5.1.1, each the one that release printed', () => {
  assert.deepEqual(SCHEMA_RELEASES, { '4.2': '4.2.8', '5.1': '5.1.1' });
  test('the keys marked as accepted but unlisted really are absent from the 4.2.8 schema of a plain output', () => {
  const loki = schemaProperties(schemaForVersion('4.2')!, 'output', 'loki')!;
  const unlisted = genericProperties.output.filter((p) => p.unlistedInSchema).map((p) => p.name);
  assert.deepEqual(unlisted, ['workers', 'storage.total_limit_size']);
  for (const name of unlisted) assert.ok(!loki.has(name), name);
});

for (const [version, release] of releases) {
    assert.ok(fs.existsSync(schemaFile(release)), schemaFile(release));
    assert.equal(schemaForVersion(version)?.['fluent-bit'].version, release);
  }
  assert.equal(schemaForVersion('3.0'), null);
});

for (const [version, release] of releases) {
  const schema = schemaForVersion(version)!;

  test(`every property this package knows for target ${version}, for every plugin it renders, is one Fluent Bit ${release} lists for that plugin`, () => {
    for (const plugin of pluginSpecs) {
      const known = schemaProperties(schema, plugin.kind, plugin.name);
      assert.ok(known, `${plugin.kind} ${plugin.name} is not compiled into the schema's Fluent Bit`);
      for (const p of [...genericProperties[plugin.kind], ...plugin.properties]) {
        if (p.name === 'name') continue;
        if (p.since && compareVersions(version, p.since) < 0) continue;
        if (p.unlistedInSchema) continue; // accepted by the binary whether or not the plugin lists it
        assert.ok(known.has(p.name), `${plugin.kind} ${plugin.name}: '${p.name}' is not in the ${release} schema`);
      }
    }
  });

  test(`the keys that broke the hand-written config are unknown to the ${release} schema and to this package`, () => {
    assert.ok(!schemaProperties(schema, 'output', 'loki')!.has('batch_size'));
    assert.ok(!schemaProperties(schema, 'output', 'loki')!.has('batch_wait'));
    assert.ok(!schemaProperties(schema, 'input', 'tail')!.has('follow_symlinks'));
    assert.ok(!findPlugin('output', 'loki')!.properties.some((p) => p.name === 'batch_size'));
    assert.ok(!findPlugin('input', 'tail')!.properties.some((p) => p.name === 'follow_symlinks'));
  });

  test(`every property the generator emits for target ${version}, in both variants and with every optional output on, is in the ${release} schema`, () => {
    const everything = kubernetesOptions({
      fluentBitVersion: version,
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
    for (const options of [kubernetesOptions({ fluentBitVersion: version }), composeOptions({ fluentBitVersion: version }), everything]) {
      const model = buildPipeline(defaultLogSettings, options);
      assert.deepEqual(validatePipeline(model, { maxLineBytes: defaultLogSettings.maxLineBytes }), []);
      for (const e of emitted(model)) {
        const spec = [...genericProperties[e.kind], ...(findPlugin(e.kind, e.plugin)?.properties ?? [])].find((p) => p.name === e.key);
        if (spec?.unlistedInSchema) continue;
        assert.ok(schemaProperties(schema, e.kind, e.plugin)?.has(e.key), `${e.kind} ${e.plugin} '${e.key}' is not in the ${release} schema`);
        count++;
      }
    }
    assert.ok(count > 80);
  });
}

function emitted(model: PipelineModel): Array<{ kind: 'input' | 'filter' | 'output'; plugin: string; key: string }> {
  return [...model.inputs, ...model.filters, ...model.outputs].flatMap((s) => s.properties.map((p) => ({ kind: s.kind, plugin: s.plugin, key: p.key.toLowerCase() })));
}
