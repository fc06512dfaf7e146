import { spec, type PluginSpec } from './knowledge.js';

export const stdout: PluginSpec = {
  kind: 'output',
  name: 'stdout',
  properties: [
    spec('format', 'string', { choices: ['msgpack', 'json', 'json_lines', 'json_stream'] }),
    spec('json_date_format', 'string', { choices: ['double', 'epoch', 'iso8601', 'java_sql_timestamp'] }),
    spec('json_date_key', 'string'),
  ],
};
