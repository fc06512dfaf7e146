import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PluginKind } from './model.js';

/**
 * The plugin schemas of real Fluent Bit builds (`fluent-bit -J`, trimmed; see schemas/README.md),
 * kept in this package so the generator checks a config against the release it targets.
 */

interface SchemaOption {
  name: string;
  type: string;
}
interface SchemaPlugin {
  name: string;
  properties: Record<string, SchemaOption[]>;
}
export interface FluentBitSchema {
  'fluent-bit': { version: string };
  inputs: SchemaPlugin[];
  filters: SchemaPlugin[];
  outputs: SchemaPlugin[];
}

/** Target version (`major.minor`) → the release whose schema is kept here. */
export const SCHEMA_RELEASES: Readonly<Record<string, string>> = { '4.2': '4.2.8', '5.1': '5.1.1' };

const schemaDir = fileURLToPath(new URL('../../schemas/', import.meta.url));
const cache = new Map<string, FluentBitSchema>();

/** The path of the schema file for a release, e.g. `5.1.1`. */
export function schemaFile(release: string): string {
  return `${schemaDir}fluent-bit-${release}.json`;
}

/** The schema of the release a target version maps to, or null when none is kept for it. */
export function schemaForVersion(version: string): FluentBitSchema | null {
  const release = SCHEMA_RELEASES[version];
  if (!release) return null;
  let schema = cache.get(release);
  if (!schema) {
    schema = JSON.parse(fs.readFileSync(schemaFile(release), 'utf8')) as FluentBitSchema;
    cache.set(release, schema);
  }
  return schema;
}

/** Lower-case names of every property the schema lists for a plugin, or null when the plugin is not compiled in. */
export function schemaProperties(schema: FluentBitSchema, kind: PluginKind, name: string): Set<string> | null {
  const list = kind === 'input' ? schema.inputs : kind === 'filter' ? schema.filters : schema.outputs;
  const plugin = list.find((p) => p.name === name.toLowerCase());
  if (!plugin) return null;
  return new Set(Object.values(plugin.properties).flat().map((o) => o.name.toLowerCase()));
}
