import { Document } from 'yaml';
import type { PipelineModel, Property } from '../model.js';
import { generatedHeader } from './header.js';

/**
 * Fluent Bit's YAML format: one `fluent-bit.yaml` with its parsers. Keys are written in lower
 * case; a key that repeats (record_modifier `Record`, modify `Remove`) becomes a list.
 */

function mapping(properties: readonly Property[], leading: Record<string, string> = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...leading };
  for (const { key, value } of properties) {
    const k = key.toLowerCase();
    const existing = out[k];
    if (existing === undefined) out[k] = value;
    else out[k] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

export function renderYamlConfig(model: PipelineModel, variant: string): string {
  // In YAML the parsers sit in the same file, so [SERVICE] Parsers_File is left out.
  const service = model.service.filter((p) => p.key.toLowerCase() !== 'parsers_file');
  const doc = new Document({
    service: mapping(service),
    parsers: model.parsers.map((p) => mapping(p.properties, { name: p.name })),
    pipeline: {
      inputs: model.inputs.map((s) => mapping(s.properties, { name: s.plugin })),
      filters: model.filters.map((s) => mapping(s.properties, { name: s.plugin })),
      outputs: model.outputs.map((s) => mapping(s.properties, { name: s.plugin })),
    },
  });
  doc.commentBefore = generatedHeader(`Fluent Bit ${model.version} sidecar config (${variant}), YAML format.`)
    .map((l) => ` ${l}`)
    .join('\n');
  return doc.toString({ lineWidth: 0 });
}
