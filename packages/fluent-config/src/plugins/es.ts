import { spec, tlsProperties, upstreamProperties, type PluginSpec, type PropertySpec } from './knowledge.js';

const searchEngineProperties: readonly PropertySpec[] = [
  spec('host', 'string'),
  spec('port', 'integer'),
  spec('index', 'string'),
  spec('http_user', 'string'),
  spec('http_passwd', 'string'),
  spec('logstash_format', 'boolean'),
  spec('logstash_prefix', 'string'),
  spec('logstash_dateformat', 'string'),
  spec('time_key', 'string'),
  spec('time_key_format', 'string'),
  spec('include_tag_key', 'boolean'),
  spec('tag_key', 'string'),
  spec('suppress_type_name', 'boolean'),
  spec('replace_dots', 'boolean'),
  spec('trace_error', 'boolean'),
  spec('buffer_size', 'size'),
  spec('generate_id', 'boolean'),
  spec('write_operation', 'string', { choices: ['create', 'index', 'update', 'upsert'] }),
  spec('compress', 'string', { choices: ['gzip'] }),
  ...tlsProperties,
  ...upstreamProperties,
];

/** out_es (Elasticsearch). */
export const es: PluginSpec = { kind: 'output', name: 'es', properties: searchEngineProperties };

/** out_opensearch. */
export const opensearch: PluginSpec = { kind: 'output', name: 'opensearch', properties: searchEngineProperties };
