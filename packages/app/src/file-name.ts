// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * The client's file name, made safe to log: only the last path segment, no control characters,
 * bounded. It is never used as a path.
 */
export function sanitizeFileName(raw: string | undefined | null): string {
  if (!raw) return 'unnamed';
  let name = raw.replace(/\\/g, '/').split('/').pop() ?? '';
  name = name.normalize('NFC').replace(CONTROL_CHARACTERS, '').replace(/[<>:"|?*]/g, '_').trim();
  if (name === '' || name === '.' || name === '..') return 'unnamed';
  return name.length > 200 ? `${name.slice(0, 200)}…` : name;
}
