export type { PipelineModel, PluginSection, ParserSection, Property, PluginKind } from './model.js';
export {
  buildPipeline,
  composeOptions,
  kubernetesOptions,
  LOG_TAG,
  METRICS_TAG,
  PARSER_NAME,
  TAIL_DB_FILE,
  LOW_CARDINALITY_LABELS,
  type DeploymentOptions,
  type LokiOptions,
  type OutputOptions,
} from './from-settings.js';
export { secondsNanoseconds } from './seconds-nanoseconds.js';
export { validatePipeline, assertValidPipeline, ConfigValidationError, parseSize, type ValidationIssue } from './validate.js';
export { SCHEMA_RELEASES, schemaFile, schemaForVersion, schemaProperties, type FluentBitSchema } from './schema.js';
export { pluginSpecs, findPlugin, genericProperties, serviceProperties, parserProperties, SUPPORTED_VERSIONS, DEFAULT_VERSION } from './plugins/index.js';
export type { PluginSpec, PropertySpec } from './plugins/index.js';
export { renderClassicConfig, renderClassicParsers } from './render/classic.js';
export { renderYamlConfig } from './render/yaml.js';
export { renderConfigMap } from './render/configmap.js';
export {
  generateFiles,
  renderVariant,
  renderKubernetesConfigMap,
  COMPOSE_CONFIG_DIR,
  CONFIGMAP_FILE,
  CONFIGMAP_NAME,
  NAMESPACE,
  type GeneratedFile,
  type GenerateOptions,
  type Variant,
} from './layout.js';
export { describeDrift, findDrift, writeFiles, type Drift } from './drift.js';
export { findRepositoryRoot } from './cli.js';
