import { Document } from 'yaml';

export interface ConfigMapOptions {
  /** Comment lines above the document (where it comes from, how to regenerate it). */
  header: string[];
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
  doc.commentBefore = options.header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0, blockQuote: 'literal' });
}
