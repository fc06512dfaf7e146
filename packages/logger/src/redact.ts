/**
 * Redaction: sensitive keys at any depth and sensitive values inside strings are replaced
 * before a record is serialized, so they never reach the disk.
 */

export const REDACTED = '[REDACTED]';

/** Keys whose values are always replaced. Matched case-insensitively, ignoring `-` and `_`, and as a suffix (`db_password`, `x-api-key`). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'token',
  'api_key',
  'apiKey',
  'authorization',
  'cookie',
  'set-cookie',
  'secret',
  'private_key',
  'credentials',
];

export interface RedactionOptions {
  /** Replaces the default key list when given. */
  keys?: readonly string[];
  /** Added to the default key list. */
  extraKeys?: readonly string[];
  /** More value patterns to replace wherever they occur inside strings. */
  patterns?: readonly RegExp[];
  /** Replace payment card numbers that pass the Luhn check (default true). */
  cardNumbers?: boolean;
  /** Replace `Bearer …`/`Basic …` credentials, JWTs and `key=value` pairs of sensitive keys (default true). */
  credentials?: boolean;
}

export interface Redactor {
  isSensitiveKey(key: string): boolean;
  /** The string with every sensitive value inside it replaced. */
  scrub(text: string): string;
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

/** True when the digits (separators ignored) form a number that passes the Luhn check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    const code = digits.charCodeAt(i) - 48;
    if (code < 0 || code > 9) continue;
    let d = code;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const CARD_CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9\-._~+/]{6,}=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** Cheap pre-tests: a string that fails them cannot hold a card number / a credential. */
const MIGHT_HOLD_CARD = /\d(?:[ -]?\d){12}/;
const MIGHT_HOLD_CREDENTIAL = /bearer|basic|token|eyJ|[=:]/i;
/** A value that AUTH_SCHEME already handled (`Bearer [REDACTED]`) or that is already redacted. */
const ALREADY_REDACTED = /^(?:Bearer|Basic|Token|\[REDACTED)/i;
/** A `key=value` or `key: value` pair; the key is checked with isSensitiveKey. */
const KEY_VALUE = /([A-Za-z][A-Za-z0-9_.-]*)(["']?\s*[=:]\s*["']?)([^\s&"',;}]+)/g;

function cardReplacer(match: string): string {
  const digitCount = match.replace(/[ -]/g, '').length;
  return digitCount >= 13 && digitCount <= 19 && passesLuhn(match) ? '[REDACTED:card]' : match;
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const keys = [...(options.keys ?? DEFAULT_SENSITIVE_KEYS), ...(options.extraKeys ?? [])].map(normalizeKey);
  const exact = new Set(keys);
  const cache = new Map<string, boolean>();
  const cardNumbers = options.cardNumbers ?? true;
  const credentials = options.credentials ?? true;
  const extraPatterns = (options.patterns ?? []).map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
  // `password=…`, `token: …`, `"api_key":"…"` inside free text, query strings and embedded JSON.
  const keyValue = keys.length > 0 ? KEY_VALUE : null;

  function isSensitiveKey(key: string): boolean {
    const known = cache.get(key);
    if (known !== undefined) return known;
    const n = normalizeKey(key);
    let hit = exact.has(n);
    if (!hit) for (const k of keys) if (n.endsWith(k)) { hit = true; break; }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, hit);
    return hit;
  }

  // Short strings repeat (event names, stages, request ids): their scrubbed form is cached.
  const scrubbed = new Map<string, string>();

  function scrub(text: string): string {
    if (text.length < 8 && extraPatterns.length === 0) return text;
    if (text.length <= 256) {
      const known = scrubbed.get(text);
      if (known !== undefined) return known;
      const out = scrubUncached(text);
      if (scrubbed.size >= 5_000) scrubbed.clear();
      scrubbed.set(text, out);
      return out;
    }
    return scrubUncached(text);
  }

  function scrubUncached(text: string): string {
    let out = text;
    if (out.length >= 8) {
      if (credentials && MIGHT_HOLD_CREDENTIAL.test(out)) {
        out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
        out = out.replace(JWT, REDACTED);
        if (keyValue) {
          out = out.replace(keyValue, (m, key: string, sep: string, value: string) =>
            isSensitiveKey(key) && !ALREADY_REDACTED.test(value) ? `${key}${sep}${REDACTED}` : m,
          );
        }
      }
      if (cardNumbers && out.length >= 13 && MIGHT_HOLD_CARD.test(out)) out = out.replace(CARD_CANDIDATE, cardReplacer);
    }
    for (const pattern of extraPatterns) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, REDACTED);
    }
    return out;
  }

  return { isSensitiveKey, scrub };
}
