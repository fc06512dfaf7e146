import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';

/** The repository root (tests run from packages/deploy/dist/test). */
export const repoRoot = path.resolve(fileURLToPath(new URL('../../../../', import.meta.url)));

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
};

export interface LoadedDocument {
  file: string;
  object: K8sObject;
}

/** Parses YAML strictly: duplicate keys and any syntax error throw, naming the file. */
export function parseStrictAll(text: string, file: string): unknown[] {
  return parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true }).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${file} document ${i + 1}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as unknown;
  });
}

export function parseStrict(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS() as unknown;
}

/** Every document of every file `kubectl apply -f k8s/` would apply, in order. */
export function loadK8s(dir = path.join(repoRoot, 'k8s')): LoadedDocument[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseStrictAll(fs.readFileSync(path.join(dir, f), 'utf8'), f).filter((o) => o !== null).map((object) => ({ file: f, object: object as K8sObject })));
}

export function find(docs: LoadedDocument[], kind: string, name: string): K8sObject {
  const found = docs.find((d) => d.object.kind === kind && d.object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in k8s/`);
  return found.object;
}

export const readRepo = (file: string): string => fs.readFileSync(path.join(repoRoot, file), 'utf8');
