import { spec, type PluginSpec } from './knowledge.js';

/** filter_modify: `Add` only adds a key the record does not have; `Remove` removes a key. */
export const modify: PluginSpec = {
  kind: 'filter',
  name: 'modify',
  properties: [
    spec('set', 'string', { repeatable: true }),
    spec('add', 'string', { repeatable: true }),
    spec('remove', 'string', { repeatable: true }),
    spec('remove_wildcard', 'string', { repeatable: true }),
    spec('remove_regex', 'string', { repeatable: true }),
    spec('rename', 'string', { repeatable: true }),
    spec('hard_rename', 'string', { repeatable: true }),
    spec('copy', 'string', { repeatable: true }),
    spec('condition', 'string', { repeatable: true }),
  ],
};
