import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLogSettings } from '@guitar-backend/logger';
import { assertValidPipeline, buildPipeline, ConfigValidationError, kubernetesOptions, secondsNanoseconds, validatePipeline, type PipelineModel, type PluginSection } from '../src/index.js';

const context = { maxLineBytes: defaultLogSettings.maxLineBytes };
const base = (): PipelineModel => buildPipeline(defaultLogSettings, kubernetesOptions());

function withSection(model: PipelineModel, kind: 'inputs' | 'outputs' | 'filters', plugin: string, edit: (s: PluginSection) => PluginSection): PipelineModel {
  return { ...model, [kind]: model[kind].map((s) => (s.plugin === plugin ? edit(s) : s)) };
}

function addProperty(key: string, value: string) {
  return (s: PluginSection): PluginSection => ({ ...s, properties: [...s.properties, { key, value }] });
}

function setProperty(key: string, value: string) {
  return (s: PluginSection): PluginSection => ({ ...s, properties: s.properties.map((p) => (p.key.toLowerCase() === key.toLowerCase() ? { key: p.key, value } : p)) });
}

function messages(model: PipelineModel): string[] {
  return validatePipeline(model, context).map((i) => i.message);
}

test('the default pipelines of both variants are valid', () => {
  assert.deepEqual(validatePipeline(base(), context), []);
});

test('Batch_Size on loki is refused, naming the plugin, the key and the valid properties', () => {
  const [message] = messages(withSection(base(), 'outputs', 'loki', addProperty('Batch_Size', '1000')));
  assert.match(message ?? '', /^output loki: unknown property 'Batch_Size'\. Valid properties: .*uri.*tenant_id.*line_format/);
});

test('Follow_Symlinks on tail is refused', () => {
  const [message] = messages(withSection(base(), 'inputs', 'tail', addProperty('Follow_Symlinks', 'On')));
  assert.match(message ?? '', /^input tail: unknown property 'Follow_Symlinks'\. Valid properties: path, exclude_path/);
});

test('line_format xml is refused with the valid choices', () => {
  assert.deepEqual(messages(withSection(base(), 'outputs', 'loki', setProperty('Line_Format', 'xml'))), [
    "output loki: 'line_format' must be one of: json, key_value, got 'xml'",
  ]);
});

test('Buffer_Max_Size below Buffer_Chunk_Size, or below the logger\'s longest line, is refused', () => {
  const small = withSection(base(), 'inputs', 'tail', (s) => setProperty('Buffer_Max_Size', '8k')(setProperty('Buffer_Chunk_Size', '16k')(s)));
  const found = messages(small);
  assert.ok(found.some((m) => /Buffer_Max_Size \(8192 bytes\) must not be smaller than Buffer_Chunk_Size \(16384 bytes\)/.test(m)), found.join('\n'));
  assert.ok(found.some((m) => /smaller than the logger's longest line \(16384 bytes\)/.test(m)), found.join('\n'));
});

test('a ${VAR} the container does not set is refused (fatal at start in Fluent Bit)', () => {
  const model = { ...base(), environment: ['HOSTNAME'] };
  assert.match(messages(model).join('\n'), /record_modifier: 'Record node \$\{NODE_NAME\}' uses \$\{NODE_NAME\}, which the container does not set/);
});

test('a Loki label taken from the record is refused, even a low-cardinality one; a fixed or ${VAR} value is not', () => {
  const model = withSection(base(), 'outputs', 'loki', setProperty('Labels', 'job=x, pod=${HOSTNAME}, module=$module'));
  const found = messages(model).filter((m) => m.includes('label'));
  assert.deepEqual(found, ["output loki: label 'module' is taken from the record, so Fluent Bit sends one stream per record; use a fixed value, or put the field in Structured_Metadata"]);
});

test('high-cardinality Loki labels are refused', () => {
  const model = withSection(base(), 'outputs', 'loki', setProperty('Labels', 'job=x, request_id=$request_id, $file_name'));
  const found = messages(model);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0] ?? '', /label 'request_id' is not a low-cardinality field/);
  assert.match(found[1] ?? '', /label 'file_name' is not a low-cardinality field/);
});

test('a property newer than the target version is refused; an unknown version is refused', () => {
  const old = { ...base(), version: '3.0' };
  assert.deepEqual(messages(old), ["output loki: 'Structured_Metadata' needs Fluent Bit ≥ 3.1; the target is 3.0"]);
  assert.match(messages({ ...base(), version: '6.0' })[0] ?? '', /Fluent Bit 6.0 is not a target this generator knows \(known: 3\.0, .*4\.2, 5\.0, 5\.1\)/);
});

test('wrong value types, an undefined parser, filesystem storage without storage.path and an output matching nothing are refused', () => {
  let model = withSection(base(), 'inputs', 'tail', (s) => setProperty('Parser', 'missing')(setProperty('Read_from_Head', 'maybe')(s)));
  model = { ...model, service: model.service.filter((p) => p.key.toLowerCase() !== 'storage.path') };
  model = withSection(model, 'outputs', 'stdout', setProperty('Match', 'nothing.here'));
  const found = messages(model).join('\n');
  assert.match(found, /'read_from_head' must be a boolean \(On\/Off\), got 'maybe'/);
  assert.match(found, /parser 'missing' is not defined \(valid: guitar-backend-json\)/);
  assert.match(found, /storage.type filesystem needs storage.path in \[SERVICE\]/);
  assert.match(found, /output stdout: Match 'nothing.here' matches no input tag/);
});

test("tail's Refresh_Interval is read as seconds.nanoseconds: '0.5' (5 ns, a core spent rescanning) and 1 ms or less are refused; the generated value is half a second", () => {
  const tail = (value: string) => messages(withSection(base(), 'inputs', 'tail', setProperty('Refresh_Interval', value)));
  assert.match(tail('0.5').join('\n'), /'refresh_interval' must be whole seconds, or seconds.nanoseconds with nine digits after the point \(Fluent Bit reads the digits after the point as nanoseconds: '0.5' is 5 ns/);
  assert.match(tail('1s').join('\n'), /'refresh_interval' must be whole seconds/);
  assert.match(tail('0.001000000').join('\n'), /must be more than 1 ms/);
  assert.match(tail('0').join('\n'), /must be more than 1 ms/);
  for (const ok of ['1', '60', '0.500000000', '2.250000000']) assert.deepEqual(tail(ok), [], ok);
  const generated = base().inputs.find((s) => s.plugin === 'tail')?.properties.find((p) => p.key === 'Refresh_Interval')?.value;
  assert.equal(generated, '0.500000000');
  // As flb_utils_time_split reads it: strtol before the point is seconds, strtol after it nanoseconds.
  const [sec, nsec] = (generated ?? '').split('.');
  assert.equal(Number(sec) + Number(nsec ?? 0) / 1e9, kubernetesOptions().refreshIntervalSeconds);
});

test('durations in seconds.nanoseconds: whole seconds stay whole, fractions get nine digits', () => {
  assert.equal(secondsNanoseconds(0.5), '0.500000000');
  assert.equal(secondsNanoseconds(2), '2');
  assert.equal(secondsNanoseconds(1.25), '1.250000000');
  assert.equal(secondsNanoseconds(0.000000001), '0.000000001');
  assert.equal(secondsNanoseconds(0.9999999999), '1');
  assert.throws(() => secondsNanoseconds(-1), RangeError);
  assert.throws(() => secondsNanoseconds(Number.NaN), RangeError);
});

test('assertValidPipeline throws one error listing every problem', () => {
  const model = withSection(withSection(base(), 'outputs', 'loki', addProperty('Batch_Wait', '1')), 'inputs', 'tail', addProperty('Follow_Symlinks', 'On'));
  assert.throws(
    () => assertValidPipeline(model, context),
    (err: unknown) => err instanceof ConfigValidationError && err.issues.length === 2 && /Batch_Wait/.test(err.message) && /Follow_Symlinks/.test(err.message),
  );
});
