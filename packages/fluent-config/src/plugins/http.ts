import { spec, tlsProperties, upstreamProperties, type PluginSpec } from './knowledge.js';

export const http: PluginSpec = {
  kind: 'output',
  name: 'http',
  properties: [
    spec('host', 'string'),
    spec('port', 'integer'),
    spec('uri', 'string'),
    spec('format', 'string', { choices: ['msgpack', 'json', 'json_lines', 'json_stream', 'gelf'] }),
    spec('json_date_format', 'string', { choices: ['double', 'epoch', 'iso8601', 'java_sql_timestamp'] }),
    spec('json_date_key', 'string'),
    spec('header', 'string', { repeatable: true }),
    spec('http_user', 'string'),
    spec('http_passwd', 'string'),
    spec('compress', 'string', { choices: ['gzip', 'snappy', 'zstd'] }),
    spec('http_method', 'string', { choices: ['POST', 'PUT'] }),
    ...tlsProperties,
    ...upstreamProperties,
  ],
};
