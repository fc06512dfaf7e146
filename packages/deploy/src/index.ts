export { CONFIGMAP_SOURCES, renderConfigMaps, type ConfigMapSource } from './configmaps.js';
export { runCli } from './cli.js';
