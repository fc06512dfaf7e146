import { LOW_CARDINALITY_LABELS } from './from-settings.js';
import { valueOf, valuesOf, type PipelineModel, type PluginSection, type Property } from './model.js';
import {
  findPlugin,
  genericProperties,
  parserProperties,
  serviceProperties,
  SUPPORTED_VERSIONS,
  type PropertySpec,
} from './plugins/index.js';
import { SCHEMA_RELEASES, schemaForVersion, schemaProperties } from './schema.js';

export interface ValidationIssue {
  /** e.g. `output loki`, `input tail`, `service`, `parser guitar-backend-json`. */
  readonly section: string;
  readonly key?: string;
  readonly message: string;
}

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`invalid Fluent Bit config:\n${issues.map((i) => `  - ${i.message}`).join('\n')}`);
  }
}

/** What the validator must know besides the model: the longest line the logger writes. */
export interface ValidationContext {
  readonly maxLineBytes: number;
}

const BOOLEAN = /^(on|off|true|false|yes|no)$/i;
const INTEGER = /^-?\d+$/;
const SIZE = /^\d+(\.\d+)?\s*([kmg]b?|b)?$/i;
const TIME = /^\d+(\.\d+)?\s*[smhd]?$/i;
const SECONDS_NANOSECONDS = /^(\d+)(?:\.(\d{9}))?$/;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Bytes in a Fluent Bit size value (`32k`, `5M`, `64KB`, `1024`). */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg])?b?$/i.exec(value.trim());
  if (!m) return NaN;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * factor;
}

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

function checkValue(section: string, spec: PropertySpec, value: string, issues: ValidationIssue[]): void {
  const fail = (what: string): void => {
    issues.push({ section, key: spec.name, message: `${section}: '${spec.name}' ${what}, got '${value}'` });
  };
  if (spec.choices && !spec.choices.some((c) => c.toLowerCase() === value.toLowerCase())) {
    fail(`must be one of: ${spec.choices.join(', ')}`);
    return;
  }
  if (value.trim() === '') fail('must not be empty');
  else if (spec.type === 'boolean' && !BOOLEAN.test(value)) fail('must be a boolean (On/Off)');
  else if (spec.type === 'integer' && !INTEGER.test(value)) fail('must be a whole number');
  else if (spec.type === 'size' && !SIZE.test(value)) fail('must be a size such as 32k or 5M');
  else if (spec.type === 'time' && !TIME.test(value)) fail('must be a time such as 5 or 10s');
  else if (spec.type === 'seconds.nanoseconds') checkSecondsNanoseconds(value, fail);
}

/** Fluent Bit reads the digits after the point as nanoseconds, and warns at 1 ms or less ("might cause high CPU usage"). */
function checkSecondsNanoseconds(value: string, fail: (what: string) => void): void {
  const m = SECONDS_NANOSECONDS.exec(value.trim());
  if (!m) {
    fail("must be whole seconds, or seconds.nanoseconds with nine digits after the point (Fluent Bit reads the digits after the point as nanoseconds: '0.5' is 5 ns, half a second is '0.500000000')");
    return;
  }
  const seconds = Number(m[1]) + Number(m[2] ?? 0) / 1e9;
  if (seconds <= 0.001) fail('must be more than 1 ms (Fluent Bit rescans that often and spins a core)');
}

function checkProperties(
  section: string,
  properties: readonly Property[],
  specs: readonly PropertySpec[],
  version: string,
  issues: ValidationIssue[],
): void {
  const seen = new Set<string>();
  for (const property of properties) {
    const key = property.key.toLowerCase();
    const spec = specs.find((s) => s.name === key);
    if (!spec) {
      const valid = specs.filter((s) => s.name !== 'name').map((s) => s.name);
      issues.push({
        section,
        key,
        message: `${section}: unknown property '${property.key}'. Valid properties: ${valid.join(', ')}`,
      });
      continue;
    }
    if (spec.since && compareVersions(version, spec.since) < 0) {
      issues.push({
        section,
        key,
        message: `${section}: '${property.key}' needs Fluent Bit ≥ ${spec.since}; the target is ${version}`,
      });
    }
    if (seen.has(key) && !spec.repeatable) {
      issues.push({ section, key, message: `${section}: '${property.key}' is set more than once` });
    }
    seen.add(key);
    checkValue(section, spec, property.value, issues);
  }
}

function sectionName(s: PluginSection): string {
  return `${s.kind} ${s.plugin}`;
}

function checkPlugin(s: PluginSection, model: PipelineModel, issues: ValidationIssue[]): void {
  const plugin = findPlugin(s.kind, s.plugin);
  if (!plugin) {
    issues.push({ section: sectionName(s), message: `${sectionName(s)}: this generator has no knowledge of the ${s.kind} plugin '${s.plugin}'` });
    return;
  }
  const specs = [...plugin.properties, ...genericProperties[s.kind]];
  checkProperties(sectionName(s), s.properties, specs, model.version, issues);
  checkAgainstSchema(s, specs, model.version, issues);
}

/** Every property must also be one the real Fluent Bit of the target release lists for the plugin. */
function checkAgainstSchema(s: PluginSection, specs: readonly PropertySpec[], version: string, issues: ValidationIssue[]): void {
  const schema = schemaForVersion(version);
  if (!schema) return;
  const release = SCHEMA_RELEASES[version] ?? version;
  const listed = schemaProperties(schema, s.kind, s.plugin);
  if (!listed) {
    issues.push({ section: sectionName(s), message: `${sectionName(s)}: the plugin is not in Fluent Bit ${release}'s schema` });
    return;
  }
  for (const property of s.properties) {
    const key = property.key.toLowerCase();
    const spec = specs.find((p) => p.name === key);
    if (!spec || key === 'name' || spec.unlistedInSchema || listed.has(key)) continue;
    issues.push({ section: sectionName(s), key, message: `${sectionName(s)}: '${property.key}' is not a property of ${s.plugin} in Fluent Bit ${release}` });
  }
}

function tagMatches(pattern: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(tag);
}

/** Checks that Fluent Bit itself does not make before it starts, or makes only by refusing to start. */
function checkPipeline(model: PipelineModel, context: ValidationContext, issues: ValidationIssue[]): void {
  for (const input of model.inputs.filter((i) => i.plugin === 'tail')) {
    const section = sectionName(input);
    const chunk = parseSize(valueOf(input.properties, 'buffer_chunk_size') ?? '32k');
    const max = parseSize(valueOf(input.properties, 'buffer_max_size') ?? '32k');
    if (max < chunk) {
      issues.push({ section, key: 'buffer_max_size', message: `${section}: Buffer_Max_Size (${max} bytes) must not be smaller than Buffer_Chunk_Size (${chunk} bytes)` });
    }
    if (max < context.maxLineBytes) {
      issues.push({ section, key: 'buffer_max_size', message: `${section}: Buffer_Max_Size (${max} bytes) is smaller than the logger's longest line (${context.maxLineBytes} bytes)` });
    }
    const parser = valueOf(input.properties, 'parser');
    if (parser && !model.parsers.some((p) => p.name === parser)) {
      issues.push({ section, key: 'parser', message: `${section}: parser '${parser}' is not defined (valid: ${model.parsers.map((p) => p.name).join(', ') || 'none'})` });
    }
    if (valueOf(input.properties, 'storage.type')?.toLowerCase() === 'filesystem' && !valueOf(model.service, 'storage.path')) {
      issues.push({ section, key: 'storage.type', message: `${section}: storage.type filesystem needs storage.path in [SERVICE]` });
    }
  }
  for (const filter of model.filters.filter((f) => f.plugin === 'record_modifier')) {
    for (const record of valuesOf(filter.properties, 'record')) {
      if (record.trim().split(/\s+/).length < 2) {
        issues.push({ section: sectionName(filter), key: 'record', message: `${sectionName(filter)}: 'Record ${record}' needs a key and a value` });
      }
    }
  }
  const everything = [...model.inputs, ...model.filters, ...model.outputs].flatMap((s) => s.properties.map((p) => ({ s: sectionName(s), p })));
  for (const { s, p } of everything) {
    for (const [, name] of p.value.matchAll(ENV_REFERENCE)) {
      if (name && !model.environment.includes(name)) {
        issues.push({ section: s, key: p.key.toLowerCase(), message: `${s}: '${p.key} ${p.value}' uses \${${name}}, which the container does not set (an unset variable is fatal at start)` });
      }
    }
  }
  for (const loki of model.outputs.filter((o) => o.plugin === 'loki')) {
    for (const entry of (valueOf(loki.properties, 'labels') ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
      const name = entry.includes('=') ? entry.slice(0, entry.indexOf('=')).trim() : entry.replace(/^\$/, '');
      if (!(LOW_CARDINALITY_LABELS as readonly string[]).includes(name)) {
        issues.push({
          section: sectionName(loki),
          key: 'labels',
          message: `${sectionName(loki)}: label '${name}' is not a low-cardinality field (allowed: ${LOW_CARDINALITY_LABELS.join(', ')}); put per-request values in Structured_Metadata`,
        });
      } else if (/^\$|=\s*\$[^{]/.test(entry)) {
        issues.push({
          section: sectionName(loki),
          key: 'labels',
          message: `${sectionName(loki)}: label '${name}' is taken from the record, so Fluent Bit sends one stream per record; use a fixed value, or put the field in Structured_Metadata`,
        });
      }
    }
  }
  const tags = model.inputs.map((i) => valueOf(i.properties, 'tag') ?? i.plugin);
  for (const output of model.outputs) {
    const match = valueOf(output.properties, 'match');
    if (!match) {
      issues.push({ section: sectionName(output), key: 'match', message: `${sectionName(output)}: has no Match, so it receives nothing` });
    } else if (!tags.some((t) => tagMatches(match, t))) {
      issues.push({ section: sectionName(output), key: 'match', message: `${sectionName(output)}: Match '${match}' matches no input tag (${tags.join(', ')})` });
    }
  }
}

/** Every problem with the model, or [] when Fluent Bit `version` will start with it. */
export function validatePipeline(model: PipelineModel, context: ValidationContext): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(model.version)) {
    issues.push({ section: 'version', message: `Fluent Bit ${model.version} is not a target this generator knows (known: ${SUPPORTED_VERSIONS.join(', ')})` });
    return issues;
  }
  checkProperties('service', model.service, serviceProperties, model.version, issues);
  for (const parser of model.parsers) checkProperties(`parser ${parser.name}`, parser.properties, parserProperties, model.version, issues);
  for (const s of [...model.inputs, ...model.filters, ...model.outputs]) checkPlugin(s, model, issues);
  checkPipeline(model, context, issues);
  return issues;
}

/** Throws ConfigValidationError listing every problem. */
export function assertValidPipeline(model: PipelineModel, context: ValidationContext): void {
  const issues = validatePipeline(model, context);
  if (issues.length > 0) throw new ConfigValidationError(issues);
}
