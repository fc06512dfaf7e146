import { spec, type PropertySpec } from './knowledge.js';

/** [SERVICE] keys (not part of the plugin schema `fluent-bit -J` prints). */
export const serviceProperties: readonly PropertySpec[] = [
  spec('flush', 'time'),
  spec('grace', 'integer'),
  spec('daemon', 'boolean'),
  spec('log_level', 'string', { choices: ['off', 'error', 'warn', 'info', 'debug', 'trace'] }),
  spec('parsers_file', 'string', { repeatable: true }),
  spec('http_server', 'boolean'),
  spec('http_listen', 'string'),
  spec('http_port', 'integer'),
  spec('health_check', 'boolean'),
  spec('hc_errors_count', 'integer'),
  spec('hc_retry_failure_count', 'integer'),
  spec('hc_period', 'integer'),
  spec('scheduler.cap', 'integer'),
  spec('scheduler.base', 'integer'),
  spec('storage.path', 'string'),
  spec('storage.sync', 'string', { choices: ['normal', 'full'] }),
  spec('storage.metrics', 'boolean'),
  spec('storage.backlog.mem_limit', 'size'),
  spec('storage.max_chunks_up', 'integer'),
  spec('storage.checksum', 'boolean'),
  spec('storage.delete_irrecoverable_chunks', 'boolean'),
  spec('scheduler.base', 'integer'),
  spec('scheduler.cap', 'integer'),
];

/** [PARSER] keys of the json format. */
export const parserProperties: readonly PropertySpec[] = [
  spec('name', 'string'),
  spec('format', 'string', { choices: ['json', 'regex', 'ltsv', 'logfmt'] }),
  spec('time_key', 'string'),
  spec('time_format', 'string'),
  spec('time_keep', 'boolean'),
  spec('time_strict', 'boolean'),
];
