import type { PluginKind } from '../model.js';
import type { PluginSpec } from './knowledge.js';
import { cloudwatchLogs } from './cloudwatch-logs.js';
import { es, opensearch } from './es.js';
import { file } from './file.js';
import { fluentbitMetrics } from './fluentbit-metrics.js';
import { http } from './http.js';
import { loki } from './loki.js';
import { modify } from './modify.js';
import { prometheusExporter } from './prometheus-exporter.js';
import { recordModifier } from './record-modifier.js';
import { stdout } from './stdout.js';
import { tail } from './tail.js';

export { genericProperties } from './generic.js';
export { serviceProperties, parserProperties } from './service.js';
export type { PluginSpec, PropertySpec, PropertyType } from './knowledge.js';

/** Every plugin this package renders, with the properties it may set. */
export const pluginSpecs: readonly PluginSpec[] = [
  tail,
  fluentbitMetrics,
  recordModifier,
  modify,
  loki,
  prometheusExporter,
  stdout,
  es,
  opensearch,
  http,
  file,
  cloudwatchLogs,
];

export function findPlugin(kind: PluginKind, name: string): PluginSpec | undefined {
  return pluginSpecs.find((p) => p.kind === kind && p.name === name.toLowerCase());
}

/**
 * Fluent Bit versions the knowledge covers. Targets with a schema in schemas/ (4.2, 5.1) are also
 * checked against it; `since` marks what older targets lack.
 */
export const SUPPORTED_VERSIONS = ['3.0', '3.1', '3.2', '4.0', '4.1', '4.2', '5.0', '5.1'] as const;
export const DEFAULT_VERSION = '4.2';
