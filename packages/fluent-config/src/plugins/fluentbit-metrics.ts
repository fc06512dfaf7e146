import { spec, type PluginSpec } from './knowledge.js';

/** in_fluentbit_metrics: Fluent Bit's own pipeline metrics as metrics records. */
export const fluentbitMetrics: PluginSpec = {
  kind: 'input',
  name: 'fluentbit_metrics',
  properties: [spec('scrape_interval', 'time'), spec('scrape_on_start', 'boolean')],
};
