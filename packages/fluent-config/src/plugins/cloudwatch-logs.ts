import { spec, type PluginSpec } from './knowledge.js';

export const cloudwatchLogs: PluginSpec = {
  kind: 'output',
  name: 'cloudwatch_logs',
  properties: [
    spec('region', 'string'),
    spec('log_group_name', 'string'),
    spec('log_stream_name', 'string'),
    spec('log_stream_prefix', 'string'),
    spec('log_key', 'string'),
    spec('log_format', 'string'),
    spec('role_arn', 'string'),
    spec('auto_create_group', 'boolean'),
    spec('log_retention_days', 'integer'),
    spec('endpoint', 'string'),
  ],
};
