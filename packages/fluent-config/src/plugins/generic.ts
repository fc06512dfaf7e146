import type { PluginKind } from '../model.js';
import { spec, type PropertySpec } from './knowledge.js';

/** Properties every plugin of a kind accepts. */
export const genericProperties: Record<PluginKind, readonly PropertySpec[]> = {
  input: [
    spec('name', 'string'),
    spec('tag', 'string'),
    spec('alias', 'string'),
    spec('log_level', 'string', { choices: ['off', 'error', 'warn', 'info', 'debug', 'trace'] }),
    spec('mem_buf_limit', 'size'),
    spec('storage.type', 'string', { choices: ['memory', 'filesystem', 'memrb'] }),
    spec('storage.pause_on_chunks_overlimit', 'boolean'),
    spec('threaded', 'boolean'),
    spec('routable', 'boolean'),
  ],
  filter: [
    spec('name', 'string'),
    spec('match', 'string'),
    spec('match_regex', 'string'),
    spec('alias', 'string'),
    spec('log_level', 'string', { choices: ['off', 'error', 'warn', 'info', 'debug', 'trace'] }),
  ],
  output: [
    spec('name', 'string'),
    spec('match', 'string'),
    spec('match_regex', 'string'),
    spec('alias', 'string'),
    spec('log_level', 'string', { choices: ['off', 'error', 'warn', 'info', 'debug', 'trace'] }),
    spec('retry_limit', 'string'),
    spec('workers', 'integer', { unlistedInSchema: true }),
    spec('storage.total_limit_size', 'size', { unlistedInSchema: true }),
  ],
};
