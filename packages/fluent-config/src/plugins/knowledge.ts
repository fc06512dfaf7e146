import type { PluginKind } from '../model.js';

/**
 * How Fluent Bit reads a property's value. `seconds.nanoseconds` is what flb_utils_time_split
 * reads (tail's refresh_interval): whole seconds, and the digits after the point taken as a whole
 * number of nanoseconds, so `0.5` is 5 ns, not half a second.
 */
export type PropertyType = 'string' | 'boolean' | 'integer' | 'size' | 'time' | 'seconds.nanoseconds' | 'list';

export interface PropertySpec {
  /** Lower-case name, as Fluent Bit's schema lists it. */
  readonly name: string;
  readonly type: PropertyType;
  /** The only values Fluent Bit accepts (case-insensitive), where it accepts a fixed set. */
  readonly choices?: readonly string[];
  /** First Fluent Bit version (`major.minor`) that knows the property. */
  readonly since?: string;
  /** May appear more than once in a section. */
  readonly repeatable?: boolean;
  /** Accepted by the binary but not listed by `fluent-bit -J` (documented in shared/fluent-bit/NOTES.md). */
  readonly unlistedInSchema?: boolean;
}

export interface PluginSpec {
  readonly kind: PluginKind;
  readonly name: string;
  readonly properties: readonly PropertySpec[];
}

export function spec(name: string, type: PropertyType, extra: Omit<PropertySpec, 'name' | 'type'> = {}): PropertySpec {
  return { name, type, ...extra };
}

export const tlsProperties: readonly PropertySpec[] = [
  spec('tls', 'boolean'),
  spec('tls.verify', 'boolean'),
  spec('tls.debug', 'integer'),
  spec('tls.ca_file', 'string'),
  spec('tls.ca_path', 'string'),
  spec('tls.crt_file', 'string'),
  spec('tls.key_file', 'string'),
  spec('tls.key_passwd', 'string'),
  spec('tls.vhost', 'string'),
  spec('tls.verify_hostname', 'boolean'),
];

export const upstreamProperties: readonly PropertySpec[] = [
  spec('net.keepalive', 'boolean'),
  spec('net.keepalive_idle_timeout', 'time'),
  spec('net.connect_timeout', 'time'),
  spec('net.io_timeout', 'time'),
  spec('net.dns.mode', 'string', { choices: ['UDP', 'TCP'] }),
];
