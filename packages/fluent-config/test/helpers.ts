import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The repository root (tests run from packages/fluent-config/dist/test). */
export const repoRoot = path.resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

/** shared/ sits beside the checkout, in CI as on the developers' machines. */
export const schemaPath = path.resolve(repoRoot, '..', 'shared', 'fluent-bit', 'schema-4.2.8.json');

interface SchemaOption {
  name: string;
  type: string;
}
interface SchemaPlugin {
  name: string;
  properties: Record<string, SchemaOption[]>;
}
interface Schema {
  'fluent-bit': { version: string };
  inputs: SchemaPlugin[];
  filters: SchemaPlugin[];
  outputs: SchemaPlugin[];
}

export function loadSchema(): Schema {
  if (!fs.existsSync(schemaPath)) {
    throw new Error(`the Fluent Bit schema is not at ${schemaPath}: shared/ must sit beside the checkout, as in CI`);
  }
  return JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as Schema;
}

/** Lower-case names of every property the real Fluent Bit lists for a plugin. */
export function schemaProperties(schema: Schema, kind: 'input' | 'filter' | 'output', name: string): Set<string> | null {
  const list = kind === 'input' ? schema.inputs : kind === 'filter' ? schema.filters : schema.outputs;
  const plugin = list.find((p) => p.name === name);
  if (!plugin) return null;
  return new Set(Object.values(plugin.properties).flat().map((o) => o.name.toLowerCase()));
}

export type Section = { type: string; entries: Array<[string, string]> };

/** Reads Fluent Bit's classic format back into sections of (lower-case key, value) entries. */
export function parseClassic(text: string): Section[] {
  const sections: Section[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([A-Z]+)\]$/.exec(line);
    if (header) {
      sections.push({ type: header[1]!.toLowerCase(), entries: [] });
      continue;
    }
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m || sections.length === 0) throw new Error(`unparseable line: ${raw}`);
    sections.at(-1)!.entries.push([m[1]!.toLowerCase(), m[2]!.trim()]);
  }
  return sections;
}

export function strictYaml(text: string): unknown {
  return parseYaml(text, { uniqueKeys: true, strict: true, prettyErrors: true });
}
