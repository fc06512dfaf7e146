import { spec, type PluginSpec } from './knowledge.js';

/** filter_record_modifier. `Record` appends a key even when the record has it already. */
export const recordModifier: PluginSpec = {
  kind: 'filter',
  name: 'record_modifier',
  properties: [
    spec('record', 'string', { repeatable: true }),
    spec('remove_key', 'string', { repeatable: true }),
    spec('allowlist_key', 'string', { repeatable: true }),
    spec('uuid_key', 'string'),
  ],
};
