import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The repository root (tests run from packages/fluent-config/dist/test). */
export const repoRoot = path.resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

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
