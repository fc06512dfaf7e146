import { spec, type PluginSpec } from './knowledge.js';

/** out_prometheus_exporter: serves metrics records (e.g. from fluentbit_metrics) on /metrics. */
export const prometheusExporter: PluginSpec = {
  kind: 'output',
  name: 'prometheus_exporter',
  properties: [spec('host', 'string'), spec('port', 'integer'), spec('add_timestamp', 'boolean'), spec('add_label', 'string', { repeatable: true })],
};
