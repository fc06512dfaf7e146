/**
 * Keeps every line within the maximum line size: the longest strings are cut (with a marker)
 * until the record fits; a record that still does not fit is replaced by a minimal one.
 */

interface StringLeaf {
  length: number;
  set(value: string): void;
  value: string;
}

function largestString(root: unknown): StringLeaf | null {
  let best: StringLeaf | null = null;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    const container = node as Record<string, unknown>;
    for (const key of Object.keys(container)) {
      const value = container[key];
      if (typeof value === 'string') {
        if (!best || value.length > best.length) {
          best = { length: value.length, value, set: (v) => (container[key] = v) };
        }
      } else if (value !== null && typeof value === 'object') {
        stack.push(value);
      }
    }
  }
  return best;
}

export function truncationMarker(cutChars: number): string {
  return `…[truncated ${cutChars} chars]`;
}

/** `line` (one JSON object and a newline) cut down to at most `maxBytes` bytes. */
export function fitLine(line: string, maxBytes: number): string {
  const originalBytes = Buffer.byteLength(line);
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    record = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { message: String(parsed) };
  } catch {
    record = { message: line };
  }
  record.truncated = true;
  for (let attempt = 0; attempt < 40; attempt++) {
    const out = `${JSON.stringify(record)}\n`;
    const size = Buffer.byteLength(out);
    if (size <= maxBytes) return out;
    const leaf = largestString(record);
    if (!leaf || leaf.length <= 64) break;
    // Bytes over the limit, as characters (a character is at most 3 UTF-8 bytes), plus the marker.
    const excessChars = Math.ceil((size - maxBytes) / 3) + 40;
    const keep = Math.max(32, Math.min(Math.floor(leaf.length / 2), leaf.length - excessChars));
    leaf.set(leaf.value.slice(0, keep) + truncationMarker(leaf.length - keep));
  }
  const minimal = {
    time: typeof record.time === 'string' ? record.time : new Date().toISOString(),
    level: typeof record.level === 'string' ? record.level : 'info',
    message: String(record.message ?? '').slice(0, Math.max(0, Math.floor(maxBytes / 8))),
    service: typeof record.service === 'string' ? record.service : 'unknown',
    truncated: true,
    original_bytes: originalBytes,
  };
  return `${JSON.stringify(minimal)}\n`;
}
