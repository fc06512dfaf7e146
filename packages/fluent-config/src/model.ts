/**
 * A typed model of a Fluent Bit pipeline. Renderers turn it into text (classic, YAML); the
 * validator checks it against the plugin knowledge in `plugins/`. Nothing else builds config text.
 */

export type PluginKind = 'input' | 'filter' | 'output';

/** One `Key Value` line; a key may repeat (e.g. record_modifier `Record`, modify `Remove`). */
export interface Property {
  readonly key: string;
  readonly value: string;
}

export interface PluginSection {
  readonly kind: PluginKind;
  /** The plugin's name, e.g. `tail`, `loki`. */
  readonly plugin: string;
  readonly properties: readonly Property[];
}

export interface ParserSection {
  readonly name: string;
  readonly properties: readonly Property[];
}

export interface PipelineModel {
  /** Fluent Bit version the config targets, `major.minor`. */
  readonly version: string;
  readonly service: readonly Property[];
  readonly parsers: readonly ParserSection[];
  readonly inputs: readonly PluginSection[];
  readonly filters: readonly PluginSection[];
  readonly outputs: readonly PluginSection[];
  /** Environment variables the container is known to have (`${VAR}` may only use these). */
  readonly environment: readonly string[];
  /** Where the parsers file lives in the container (classic format's Parsers_File). */
  readonly parsersFile: string;
}

export function prop(key: string, value: string | number | boolean): Property {
  return { key, value: typeof value === 'boolean' ? (value ? 'On' : 'Off') : String(value) };
}

/** The values of every property named `key` (case-insensitive). */
export function valuesOf(properties: readonly Property[], key: string): string[] {
  const k = key.toLowerCase();
  return properties.filter((p) => p.key.toLowerCase() === k).map((p) => p.value);
}

export function valueOf(properties: readonly Property[], key: string): string | undefined {
  return valuesOf(properties, key)[0];
}
