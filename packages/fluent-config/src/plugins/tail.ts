import { spec, type PluginSpec } from './knowledge.js';

/** in_tail. `Follow_Symlinks` is not a property of it: Fluent Bit 4.2.8 rejects it. */
export const tail: PluginSpec = {
  kind: 'input',
  name: 'tail',
  properties: [
    spec('path', 'list'),
    spec('exclude_path', 'list'),
    spec('path_key', 'string'),
    spec('offset_key', 'string'),
    spec('key', 'string'),
    spec('parser', 'string'),
    spec('db', 'string'),
    spec('db.sync', 'string', { choices: ['extra', 'full', 'normal', 'off'] }),
    spec('db.locking', 'boolean'),
    spec('db.journal_mode', 'string', { choices: ['wal', 'delete', 'truncate', 'persist', 'memory', 'off'] }),
    spec('read_from_head', 'boolean'),
    spec('refresh_interval', 'time'),
    spec('rotate_wait', 'time'),
    spec('ignore_older', 'time'),
    spec('buffer_chunk_size', 'size'),
    spec('buffer_max_size', 'size'),
    spec('skip_long_lines', 'boolean'),
    spec('skip_empty_lines', 'boolean'),
    spec('inotify_watcher', 'boolean'),
    spec('multiline.parser', 'list'),
  ],
};
