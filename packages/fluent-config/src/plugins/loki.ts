import { spec, tlsProperties, upstreamProperties, type PluginSpec } from './knowledge.js';

/**
 * out_loki (the built-in one). `Batch_Size`/`Batch_Wait` belong to Grafana's separate Go plugin:
 * Fluent Bit 4.2.8 refuses to start with them. `line_format` knows only json and key_value;
 * `compress` only gzip.
 */
export const loki: PluginSpec = {
  kind: 'output',
  name: 'loki',
  properties: [
    spec('host', 'string'),
    spec('port', 'integer'),
    spec('uri', 'string'),
    spec('tenant_id', 'string'),
    spec('tenant_id_key', 'string'),
    spec('labels', 'list'),
    spec('label_keys', 'list'),
    spec('label_map_path', 'string'),
    spec('structured_metadata', 'list', { since: '3.1' }),
    spec('remove_keys', 'list'),
    spec('drop_single_key', 'string', { choices: ['on', 'off', 'true', 'false', 'raw'] }),
    spec('line_format', 'string', { choices: ['json', 'key_value'] }),
    spec('auto_kubernetes_labels', 'boolean'),
    spec('http_user', 'string'),
    spec('http_passwd', 'string'),
    spec('bearer_token', 'string'),
    spec('header', 'string', { repeatable: true }),
    spec('buffer_size', 'size'),
    spec('compress', 'string', { choices: ['gzip'] }),
    ...tlsProperties,
    ...upstreamProperties,
  ],
};
