import type { PipelineModel, Property } from '../model.js';
import { generatedHeader } from './header.js';

/** Fluent Bit's classic format: `fluent-bit.conf` and `parsers.conf`. */

function section(title: string, properties: readonly Property[]): string {
  const width = Math.max(...properties.map((p) => p.key.length));
  const lines = properties.map((p) => `    ${p.key.padEnd(width)} ${p.value}`);
  return [`[${title}]`, ...lines].join('\n');
}

function comment(lines: string[]): string {
  return lines.map((l) => `# ${l}`).join('\n');
}

export function renderClassicConfig(model: PipelineModel, variant: string): string {
  const blocks = [
    comment(generatedHeader(`Fluent Bit ${model.version} sidecar config (${variant}), classic format.`)),
    section('SERVICE', model.service),
    ...model.inputs.map((s) => section('INPUT', [{ key: 'Name', value: s.plugin }, ...s.properties])),
    ...model.filters.map((s) => section('FILTER', [{ key: 'Name', value: s.plugin }, ...s.properties])),
    ...model.outputs.map((s) => section('OUTPUT', [{ key: 'Name', value: s.plugin }, ...s.properties])),
  ];
  return `${blocks.join('\n\n')}\n`;
}

export function renderClassicParsers(model: PipelineModel, variant: string): string {
  const blocks = [
    comment(generatedHeader(`Fluent Bit ${model.version} parsers (${variant}), classic format.`)),
    ...model.parsers.map((p) => section('PARSER', [{ key: 'Name', value: p.name }, ...p.properties])),
  ];
  return `${blocks.join('\n\n')}\n`;
}
