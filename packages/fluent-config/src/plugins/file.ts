import { spec, type PluginSpec } from './knowledge.js';

export const file: PluginSpec = {
  kind: 'output',
  name: 'file',
  properties: [
    spec('path', 'string'),
    spec('file', 'string'),
    spec('format', 'string', { choices: ['out_file', 'plain', 'csv', 'ltsv', 'template', 'msgpack'] }),
    spec('mkdir', 'boolean'),
  ],
};
