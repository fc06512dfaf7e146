import { REDACTED, isCardNumberDigits, type Redactor } from './redact.js';
import { truncationMarker } from './line-limit.js';
import type { SerializedError } from './record.js';

/**
 * Turns whatever a caller logs into plain JSON-safe data: redacted, bounded, never throwing.
 * Circular references, BigInt, symbols, functions, Errors with cause chains, Maps, Sets, Dates,
 * typed arrays and throwing getters all come out as something readable.
 */

export interface SanitizeLimits {
  /** Strings longer than this are cut, with a marker (default 4096 characters). */
  maxStringLength: number;
  /** Deeper objects are replaced by `[Object]` / `[Array]` (default 8). */
  maxDepth: number;
  /** Arrays keep this many items, plus a marker of how many were left out (default 100). */
  maxArrayItems: number;
  /** Objects keep this many keys (default 200). */
  maxKeys: number;
}

export const DEFAULT_SANITIZE_LIMITS: SanitizeLimits = {
  maxStringLength: 4096,
  maxDepth: 8,
  maxArrayItems: 100,
  maxKeys: 200,
};

/** Past the cut, this much more of a long string is redacted with it: longer than any card number with separators. */
const CUT_MARGIN = 256;
const CARD_MARKER = '[REDACTED:card]';

/** Record fields written by the logger itself; a caller's field of that name is renamed `ctx_<name>`. */
const RESERVED_KEYS = new Set(['time', 'level', 'message']);

export type KeySerializer = (value: unknown) => unknown;

export interface Sanitizer {
  /** A merge object or child bindings, ready for pino. */
  record(obj: Record<string, unknown>): Record<string, unknown>;
  /** A message string, redacted and bounded. */
  message(text: string): string;
}

function constructorName(value: object): string {
  try {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'Object';
  } catch {
    return 'Object';
  }
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function createSanitizer(
  redactor: Redactor,
  limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS,
  keySerializers: Record<string, KeySerializer> = {},
): Sanitizer {
  const ancestors: object[] = [];
  const serializers = new Map(Object.entries(keySerializers));
  // One cached lookup per key tells everything the walk needs to know about it.
  const SENSITIVE = 1;
  const RESERVED = 2;
  const SERIALIZED = 4;
  const SCRUBBED = 8;
  const keyFlags = new Map<string, number>();
  /** Keys that themselves hold a sensitive value (a card number, a URL with a password) and what they become. */
  const scrubbedKeys = new Map<string, string>();
  function flagsOf(key: string): number {
    let flags = keyFlags.get(key);
    if (flags === undefined) {
      flags = (redactor.isSensitiveKey(key) ? SENSITIVE : 0) | (RESERVED_KEYS.has(key) ? RESERVED : 0) | (serializers.has(key) ? SERIALIZED : 0);
      const scrubbed = text(key);
      if (scrubbed !== key) {
        flags |= SCRUBBED;
        if (scrubbedKeys.size >= 10_000) scrubbedKeys.clear();
        scrubbedKeys.set(key, scrubbed);
      }
      if (keyFlags.size >= 10_000) {
        keyFlags.clear();
        scrubbedKeys.clear();
      }
      keyFlags.set(key, flags);
    }
    return flags;
  }

  /**
   * A string, redacted, then cut. Redaction runs before the cut, over the kept part and a margin
   * past it, so a secret the cut falls into (a card number, a token) is recognised whole and
   * replaced, not left as a fragment that no longer matches (12 of 16 digits).
   */
  function text(value: string): string {
    const max = limits.maxStringLength;
    if (value.length > max) {
      const scrubbed = redactor.scrub(value.slice(0, max + CUT_MARGIN));
      return scrubbed.slice(0, max) + truncationMarker(value.length - max);
    }
    return redactor.scrub(value);
  }

  /** A number as logged, or the card marker when it is a whole number shaped like a card number. */
  function number(value: number): number | string {
    if (value < 1e12 || !Number.isInteger(value) || value >= 1e19) return value;
    // Beyond 2^53 the digits are no longer exact (the Luhn check cannot be trusted) but most are still the card's.
    if (!Number.isSafeInteger(value)) return /^[2-6]/.test(String(value)) ? CARD_MARKER : value;
    return isCardNumberDigits(String(value)) ? CARD_MARKER : value;
  }

  function bigint(value: bigint): number | string {
    const digits = value.toString();
    if (isCardNumberDigits(digits)) return CARD_MARKER;
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : text(digits);
  }

  function read(obj: object, key: string | symbol): unknown {
    try {
      return (obj as Record<string | symbol, unknown>)[key];
    } catch (err) {
      return `[Unreadable: ${err instanceof Error ? err.message : String(err)}]`;
    }
  }

  function error(err: Error, depth: number): SerializedError {
    const out: SerializedError = {
      type: typeof err.name === 'string' && err.name !== 'Error' ? err.name : constructorName(err),
      message: text(typeof err.message === 'string' ? err.message : String(err.message)),
    };
    if (typeof err.stack === 'string') out.stack = text(err.stack);
    const code = read(err, 'code');
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    ancestors.push(err);
    try {
      for (const key of Object.keys(err)) {
        if (key === 'code' || key === 'stack' || key === 'message' || key in out) continue;
        out[key] = redactor.isSensitiveKey(key) ? REDACTED : clean(read(err, key), depth + 1);
      }
      if ('cause' in err && err.cause !== undefined) out.cause = clean(err.cause, depth + 1);
      if (err instanceof AggregateError && Array.isArray(err.errors)) out.errors = clean(err.errors, depth + 1) as unknown[];
    } finally {
      ancestors.pop();
    }
    return out;
  }

  /**
   * The object with its values cleaned. Copy-on-write: when no key is renamed or redacted and no
   * value changes (the common case), the caller's object itself is returned, unallocated.
   */
  function object(obj: Record<string, unknown>, depth: number, top: boolean): Record<string, unknown> {
    const keys = Object.keys(obj);
    const count = Math.min(keys.length, limits.maxKeys);
    let out: Record<string, unknown> | null = null;
    for (let i = 0; i < count; i++) {
      const key = keys[i] as string;
      let value: unknown;
      let unreadable = false;
      try {
        value = obj[key];
      } catch (err) {
        value = `[Unreadable: ${err instanceof Error ? err.message : String(err)}]`;
        unreadable = true;
      }
      const flags = flagsOf(key);
      let cleaned: unknown;
      if (flags & SENSITIVE) {
        cleaned = REDACTED;
      } else if (typeof value === 'number') {
        cleaned = number(value);
      } else if (typeof value === 'boolean') {
        cleaned = value;
      } else {
        const serializer = top && flags & SERIALIZED ? serializers.get(key) : undefined;
        let input = value;
        if (serializer) {
          try {
            input = serializer(value);
          } catch (err) {
            input = `[Unserializable: ${err instanceof Error ? err.message : String(err)}]`;
          }
        }
        cleaned = clean(input, depth + 1);
      }
      const name = flags & SCRUBBED ? (scrubbedKeys.get(key) ?? REDACTED) : top && flags & RESERVED ? `ctx_${key}` : key;
      if (out === null && (unreadable || cleaned !== value || name !== key)) {
        out = {};
        for (let j = 0; j < i; j++) {
          const kept = keys[j] as string;
          out[kept] = read(obj, kept);
        }
      }
      if (out !== null && cleaned !== undefined) out[name] = cleaned;
    }
    if (keys.length > limits.maxKeys) {
      if (out === null) {
        out = {};
        for (let j = 0; j < count; j++) out[keys[j] as string] = read(obj, keys[j] as string);
      }
      out['…'] = `${keys.length - limits.maxKeys} more keys`;
    }
    return out ?? obj;
  }

  function clean(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case 'string':
        return text(value);
      case 'number':
        return number(value);
      case 'boolean':
      case 'undefined':
        return value;
      case 'bigint':
        return bigint(value);
      case 'symbol':
        return value.toString();
      case 'function':
        return `[Function ${value.name || 'anonymous'}]`;
      default:
        break;
    }
    if (value === null) return null;
    const obj = value as object;
    if (ancestors.includes(obj)) return '[Circular]';
    if (obj instanceof Error) return depth > limits.maxDepth ? `[${constructorName(obj)}: ${text(obj.message)}]` : error(obj, depth);
    if (depth > limits.maxDepth) return Array.isArray(obj) ? '[Array]' : `[${constructorName(obj)}]`;
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
    if (ArrayBuffer.isView(obj)) return `[${constructorName(obj)} ${obj.byteLength} bytes]`;
    if (obj instanceof ArrayBuffer) return `[ArrayBuffer ${obj.byteLength} bytes]`;
    if (obj instanceof RegExp) return obj.toString();
    if (obj instanceof URL) return text(obj.href);
    if (obj instanceof URLSearchParams) return text(obj.toString());
    ancestors.push(obj);
    try {
      if (Array.isArray(obj)) {
        const items = obj.slice(0, limits.maxArrayItems).map((item) => {
          const cleaned = clean(item, depth + 1);
          return cleaned === undefined ? null : cleaned;
        });
        if (obj.length > limits.maxArrayItems) items.push(`…${obj.length - limits.maxArrayItems} more items`);
        return items;
      }
      if (obj instanceof Map) {
        const entries: Record<string, unknown> = {};
        for (const [k, v] of obj) entries[String(k)] = v;
        return object(entries, depth, false);
      }
      if (obj instanceof Set) return clean([...obj], depth);
      if (!isPlain(obj)) {
        const toJSON = read(obj, 'toJSON');
        if (typeof toJSON === 'function') {
          try {
            return clean(toJSON.call(obj), depth);
          } catch {
            return `[${constructorName(obj)}]`;
          }
        }
      }
      return object(obj as Record<string, unknown>, depth, false);
    } finally {
      ancestors.pop();
    }
  }

  return {
    record(obj) {
      try {
        ancestors.length = 0;
        ancestors.push(obj);
        return object(obj, 0, true);
      } catch (err) {
        return { sanitize_error: err instanceof Error ? err.message : String(err) };
      }
    },
    message(value) {
      try {
        return text(value);
      } catch {
        return '[unprintable message]';
      }
    },
  };
}
