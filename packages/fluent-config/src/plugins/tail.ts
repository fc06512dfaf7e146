import { spec, type PluginSpec } from './knowledge.js';

/**
 * in_tail. `Follow_Symlinks` is not a property of it: Fluent Bit 4.2.8 rejects it.
 * `refresh_interval` is read by flb_utils_time_split (see PropertyType): `0.5` would make the tail
 * rescan its glob every 5 ns, a whole core (measured: 99 % CPU on Fluent Bit 5.1.1, with its warning
 * "very low refresh_interval"); half a second is `0.500000000`.
 */
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
    spec('refresh_interval', 'seconds.nanoseconds'),
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
