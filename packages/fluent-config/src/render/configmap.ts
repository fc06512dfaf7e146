import { Document } from 'yaml';
import { generatedHeader } from './header.js';

export interface ConfigMapOptions {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** File name → content: the rendered configs. */
  files: Record<string, string>;
}

/** The Kubernetes ConfigMap carrying the rendered files, built as data so nobody edits YAML inside YAML. */
export function renderConfigMap(options: ConfigMapOptions): string {
  const doc = new Document({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
    data: options.files,
  });
  doc.commentBefore = generatedHeader('ConfigMap with the Fluent Bit sidecar config.')
    .map((l) => ` ${l}`)
    .join('\n');
  return doc.toString({ lineWidth: 0, blockQuote: 'literal' });
}
