import { defaultLogSettings, type LogSettings } from '@guitar-backend/logger';
import { buildPipeline, composeOptions, kubernetesOptions, type DeploymentOptions } from './from-settings.js';
import type { PipelineModel } from './model.js';
import { renderClassicConfig, renderClassicParsers } from './render/classic.js';
import { renderConfigMap } from './render/configmap.js';
import { generatedHeader } from './render/header.js';
import { renderYamlConfig } from './render/yaml.js';
import { assertValidPipeline } from './validate.js';

/** Where the generated files live, relative to the repository root. */
export const COMPOSE_CONFIG_DIR = 'deploy/fluent-bit';
export const CONFIGMAP_FILE = 'k8s/05-fluent-bit-configmap.yaml';
export const CONFIGMAP_NAME = 'guitar-backend-fluent-bit';
export const NAMESPACE = 'guitar-backend';

export type Variant = 'k8s' | 'compose';

export interface GeneratedFile {
  /** Relative to the repository root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

export interface RenderedVariant {
  readonly model: PipelineModel;
  readonly classic: string;
  readonly parsers: string;
  readonly yaml: string;
}

export interface GenerateOptions {
  settings?: LogSettings;
  k8s?: Partial<DeploymentOptions>;
  compose?: Partial<DeploymentOptions>;
}

/** Builds, validates (throws ConfigValidationError) and renders one variant. */
export function renderVariant(variant: Variant, options: GenerateOptions = {}): RenderedVariant {
  const settings = options.settings ?? defaultLogSettings;
  const deployment = variant === 'k8s' ? kubernetesOptions(options.k8s) : composeOptions(options.compose);
  const model = buildPipeline(settings, deployment);
  assertValidPipeline(model, { maxLineBytes: settings.maxLineBytes });
  return {
    model,
    classic: renderClassicConfig(model, variant),
    parsers: renderClassicParsers(model, variant),
    yaml: renderYamlConfig(model, variant),
  };
}

export function renderKubernetesConfigMap(options: GenerateOptions = {}): string {
  const k8s = renderVariant('k8s', options);
  return renderConfigMap({
    header: generatedHeader('ConfigMap with the Fluent Bit sidecar config.'),
    name: CONFIGMAP_NAME,
    namespace: NAMESPACE,
    labels: {
      'app.kubernetes.io/name': 'guitar-backend',
      'app.kubernetes.io/component': 'log-shipper',
      'app.kubernetes.io/managed-by': 'fluent-config',
    },
    files: { 'fluent-bit.conf': k8s.classic, 'parsers.conf': k8s.parsers, 'fluent-bit.yaml': k8s.yaml },
  });
}

/** Every generated file of the repository: the compose variant's configs and the Kubernetes ConfigMap. */
export function generateFiles(options: GenerateOptions = {}): GeneratedFile[] {
  const compose = renderVariant('compose', options);
  return [
    { path: `${COMPOSE_CONFIG_DIR}/fluent-bit.conf`, content: compose.classic },
    { path: `${COMPOSE_CONFIG_DIR}/parsers.conf`, content: compose.parsers },
    { path: `${COMPOSE_CONFIG_DIR}/fluent-bit.yaml`, content: compose.yaml },
    { path: CONFIGMAP_FILE, content: renderKubernetesConfigMap(options) },
  ];
}
