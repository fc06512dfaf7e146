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
  'passphrase',
  'access_key',
  'secret_key',
  'signature',
  'sig',
  'auth',
  'session_id',
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
const MIGHT_HOLD_CREDENTIAL = /bearer|basic|token|eyJ|[=:]|%3d/i;
/** A value that AUTH_SCHEME already handled (`Bearer [REDACTED]`) or that is already redacted. */
const ALREADY_REDACTED = /^(?:Bearer|Basic|Token|\[REDACTED)/i;
/**
 * The user information of a URL with a scheme (`postgres://app:hunter2@db`, `https://token@host`):
 * everything between `//` and the last `@` before the host. It is a credential whatever its form.
 */
const URL_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#"'<>[\]]*)@/g;
/** A percent-encoded byte that is not a delimiter of query strings (`=` `&` `?` `#` `/` `:` space). */
const KEY_BYTE = String.raw`%(?!3[dD]|26|3[fF]|23|2[fF]|3[aA]|20)[0-9A-Fa-f]{2}`;
/**
 * The key and separator of a `key=value` / `key: value` / `"key":"value"` pair, also in query
 * strings and fragments (`?password=…`, `#access_token=…`), with percent-encoded keys
 * (`pass%77ord=…`), bracketed keys (`user[password]=…`) and encoded separators (`password%3D…`,
 * a URL inside a query parameter). Only the key and separator are matched: the value is measured
 * separately, so that the value of a harmless key is scanned too (it may hold another pair).
 */
const PAIR_START = new RegExp(
  // A key starts at the start of a word (or after an encoded delimiter), never inside one: a long
  // run of word characters is not tried again from each of its positions.
  String.raw`(?<=^|[^A-Za-z0-9_.\-]|%(?:3[dD]|26|3[fF]|23|2[fF]|3[aA]|20))((?:[A-Za-z0-9]|${KEY_BYTE})(?:[A-Za-z0-9_.\-]|${KEY_BYTE})*)((?:\]|%5[dD])?["']?\s*(?:[=:]|%3[dD])\s*["']?)`,
  'g',
);
/** Where a value ends: at white space, a pair separator, a quote or a closing brace. */
const VALUE_END = /[\s&"',;}]/;
const ENCODED_AMPERSAND = /%26/i;

/** The key as a query-string parser reads it: percent-decoding and `+` for a space, never throwing. */
function decodeKey(key: string): string {
  if (!key.includes('%')) return key;
  // WHATWG's application/x-www-form-urlencoded parser: malformed escapes are kept, not thrown.
  for (const name of new URLSearchParams(`${key}=`).keys()) return name;
  return key;
}

/** The length of the value starting at `from`; a value after an encoded `=` also ends at an encoded `&`. */
function valueLength(text: string, from: number, encodedSeparator: boolean): number {
  let end = from;
  while (end < text.length && !VALUE_END.test(text.charAt(end))) {
    if (encodedSeparator && text.charAt(end) === '%' && ENCODED_AMPERSAND.test(text.slice(end, end + 3))) break;
    end++;
  }
  return end - from;
}

/** Card-number rules for a whole number (a field logged as a number or BigInt): 13–19 digits, an issuer's first digit (2–6) and the Luhn check. */
export function isCardNumberDigits(digits: string): boolean {
  return /^[2-6]\d{12,18}$/.test(digits) && passesLuhn(digits);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** True when text[start, end) lies inside a UUID: its digit groups (`…-a123-456789012345`) are no card number. */
function withinUuid(text: string, start: number, end: number): boolean {
  const from = Math.max(0, start - 36);
  for (const m of text.slice(from, end + 36).matchAll(UUID)) {
    const at = from + (m.index ?? 0);
    if (at <= start && at + m[0].length >= end) return true;
  }
  return false;
}

function cardReplacer(match: string, offset: number, text: string): string {
  const digitCount = match.replace(/[ -]/g, '').length;
  return digitCount >= 13 && digitCount <= 19 && passesLuhn(match) && !withinUuid(text, offset, offset + match.length) ? '[REDACTED:card]' : match;
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const keys = [...(options.keys ?? DEFAULT_SENSITIVE_KEYS), ...(options.extraKeys ?? [])].map(normalizeKey);
  const exact = new Set(keys);
  const cache = new Map<string, boolean>();
  const cardNumbers = options.cardNumbers ?? true;
  const credentials = options.credentials ?? true;
  const extraPatterns = (options.patterns ?? []).map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
  // `password=…`, `token: …`, `"api_key":"…"` inside free text, query strings and embedded JSON.
  const pairs = keys.length > 0;

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

  /** Every value of a sensitive key's pair replaced; the text between pairs kept as it was. */
  function redactPairs(text: string): string {
    const pattern = new RegExp(PAIR_START.source, 'g');
    let out = '';
    let copied = 0;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(text)) !== null) {
      const key = match[1] as string;
      const separator = match[2] as string;
      const valueStart = match.index + match[0].length;
      if (!isSensitiveKey(decodeKey(key).replace(/\]+$/, ''))) continue; // scanning goes on inside its value
      const length = valueLength(text, valueStart, /%3d/i.test(separator));
      if (length === 0 || ALREADY_REDACTED.test(text.slice(valueStart, valueStart + length))) continue;
      out += text.slice(copied, valueStart) + REDACTED;
      copied = valueStart + length;
      pattern.lastIndex = copied;
    }
    return copied === 0 ? text : out + text.slice(copied);
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
        out = out.replace(URL_USERINFO, (match: string, scheme: string, userinfo: string) => {
          if (userinfo === '') return match;
          const colon = userinfo.indexOf(':');
          return colon > 0 ? `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@` : `${scheme}${REDACTED}@`;
        });
        if (pairs) out = redactPairs(out);
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
