import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { loadK8s, parseStrictAll, repoRoot, type K8sObject } from './helpers.js';

const require = createRequire(import.meta.url);

/** kubernetes-models class and kubernetes-types import for each kind the manifests use. */
const KINDS: Record<string, { model: string; types: string }> = {
  'v1/Namespace': { model: 'kubernetes-models/v1/Namespace', types: 'kubernetes-types/core/v1' },
  'v1/ConfigMap': { model: 'kubernetes-models/v1/ConfigMap', types: 'kubernetes-types/core/v1' },
  'v1/Service': { model: 'kubernetes-models/v1/Service', types: 'kubernetes-types/core/v1' },
  'v1/ServiceAccount': { model: 'kubernetes-models/v1/ServiceAccount', types: 'kubernetes-types/core/v1' },
  'v1/PersistentVolumeClaim': { model: 'kubernetes-models/v1/PersistentVolumeClaim', types: 'kubernetes-types/core/v1' },
  'apps/v1/Deployment': { model: 'kubernetes-models/apps/v1/Deployment', types: 'kubernetes-types/apps/v1' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', types: 'kubernetes-types/autoscaling/v2' },
  'policy/v1/PodDisruptionBudget': { model: 'kubernetes-models/policy/v1/PodDisruptionBudget', types: 'kubernetes-types/policy/v1' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole', types: 'kubernetes-types/rbac/v1' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding', types: 'kubernetes-types/rbac/v1' },
};

const kindKey = (o: K8sObject): string => `${o.apiVersion}/${o.kind}`;

/** Validates values (types, enums, required fields) with kubernetes-models; returns the problems. */
function modelProblems(o: K8sObject): string[] {
  const entry = KINDS[kindKey(o)];
  if (!entry) return [`${kindKey(o)} is not a kind these tests know`];
  const Model = (require(entry.model) as Record<string, new (data: unknown) => { validate(): void }>)[o.kind];
  if (!Model) return [`kubernetes-models has no ${o.kind}`];
  try {
    new Model(o).validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/**
 * Catches unknown and misspelled fields at any depth: each object is type-checked as a literal of
 * its kubernetes-types interface (generated from the Kubernetes OpenAPI), where TypeScript refuses
 * excess properties.
 */
function unknownFieldProblems(objects: K8sObject[]): string[] {
  const dir = fs.mkdtempSync(path.join(repoRoot, 'packages', 'deploy', '.typecheck-'));
  try {
    const imports = new Set<string>();
    const body: string[] = [];
    const docAtLine: number[] = []; // line (0-based, after the imports) → document index
    objects.forEach((o, i) => {
      const entry = KINDS[kindKey(o)];
      const text = entry ? `export const doc${i}: ${o.kind} = ${JSON.stringify(o, null, 2)};` : `// ${kindKey(o)}: not a kind these tests know`;
      if (entry) imports.add(`import type { ${o.kind} } from '${entry.types}';`);
      for (const _ of text.split('\n')) docAtLine.push(i);
      body.push(text);
    });
    const header = [...imports];
    const file = path.join(dir, 'manifests.ts');
    fs.writeFileSync(file, [...header, ...body].join('\n'));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      skipLibCheck: true,
      types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - header.length : -1;
      const source = objects[docAtLine[line] ?? -1];
      return `${source ? `${source.kind} ${source.metadata.name}` : 'manifest'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const docs = loadK8s();

test('every file in k8s/ parses as strict YAML, and duplicate keys are refused', () => {
  assert.ok(docs.length >= 20, `${docs.length} documents`);
  assert.throws(() => parseStrictAll('a: 1\nb: 2\na: 3\n', 'dup.yaml'), /dup.yaml document 1: .*[Dd]uplicate|Map keys must be unique/);
});

test('every document validates against the Kubernetes API schema (kubernetes-models)', () => {
  const problems = docs.flatMap((d) => modelProblems(d.object).map((p) => `${d.file} ${d.object.kind} ${d.object.metadata.name}: ${p}`));
  assert.deepEqual(problems, []);
});

test('no document has an unknown or misspelled field (kubernetes-types, via the TypeScript compiler)', () => {
  assert.deepEqual(unknownFieldProblems(docs.map((d) => d.object)), []);
});

test('the checks fail on a broken file: a misspelled field, a wrong type, an unknown kind', () => {
  const deployment = structuredClone(docs.find((d) => d.object.kind === 'Deployment')?.object) as K8sObject & { spec: Record<string, any> };
  const misspelled = structuredClone(deployment);
  misspelled.spec.template.spec.containers[0].imagePullPolcy = 'Never';
  const found = unknownFieldProblems([misspelled]);
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0] ?? '', /imagePullPolcy/);
  const topLevel = structuredClone(deployment);
  topLevel.spec.replcas = 2;
  assert.match(unknownFieldProblems([topLevel]).join(' '), /replcas/);
  const wrongType = structuredClone(deployment);
  wrongType.spec.replicas = 'two';
  assert.match(modelProblems(wrongType).join(' '), /replicas must be integer/);
  assert.match(modelProblems({ ...deployment, kind: 'Deploymnet' }).join(' '), /not a kind these tests know/);
});

test('kubectl apply -f k8s/ applies in a working order: the namespace first, ConfigMaps before the pods that mount them', () => {
  const order = docs.map((d) => `${d.object.kind}/${d.object.metadata.name}`);
  assert.equal(order[0], 'Namespace/guitar-backend');
  for (const [config, user] of [
    ['ConfigMap/guitar-backend-fluent-bit', 'Deployment/guitar-backend'],
    ['ConfigMap/loki-config', 'Deployment/loki'],
    ['ConfigMap/prometheus-config', 'Deployment/prometheus'],
    ['ServiceAccount/prometheus', 'Deployment/prometheus'],
    ['ConfigMap/grafana-provisioning', 'Deployment/grafana'],
  ] as const) {
    assert.ok(order.indexOf(config) >= 0 && order.indexOf(config) < order.indexOf(user), `${config} must come before ${user}`);
  }
});
