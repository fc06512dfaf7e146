/**
 * The subset of Fluent Bit's flb_strptime that the parser's Time_Format uses, with its semantics
 * (shared/fluent-bit/NOTES.md): %L reads a fraction of any length and needs at least one digit;
 * %z reads `Z`, `±hh:mm`, `±hhmm` or `±hh`; other characters must match literally. Returns epoch
 * milliseconds, or null where Fluent Bit fails to parse (and falls back to ingestion time).
 */
export function flbStrptime(value: unknown, format: string): number | null {
  if (typeof value !== 'string') return null; // the json parser reads string times only
  let i = 0;
  const f: Record<string, number> = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0 };
  let fractionMs = 0;
  let offsetMinutes = 0;
  const digits = (n: number): number | null => {
    const s = value.slice(i, i + n);
    if (!new RegExp(`^\\d{${n}}$`).test(s)) return null;
    i += n;
    return Number(s);
  };
  for (let k = 0; k < format.length; k++) {
    const c = format[k];
    if (c !== '%') {
      if (value[i] !== c) return null;
      i++;
      continue;
    }
    const spec = format[++k];
    switch (spec) {
      case 'Y': {
        const v = digits(4);
        if (v === null) return null;
        f.Y = v;
        break;
      }
      case 'm':
      case 'd':
      case 'H':
      case 'M':
      case 'S': {
        const v = digits(2);
        if (v === null) return null;
        f[spec] = v;
        break;
      }
      case 'L': {
        const m = /^\d+/.exec(value.slice(i));
        if (!m) return null;
        fractionMs = Number(`0.${m[0]}`) * 1000;
        i += m[0].length;
        break;
      }
      case 'z': {
        if (value[i] === 'Z') {
          i++;
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})?/.exec(value.slice(i));
        if (!m) return null;
        offsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
        i += m[0].length;
        break;
      }
      default:
        throw new Error(`%${spec} is not implemented here`);
    }
  }
  if (i !== value.length) return null;
  return Date.UTC(f.Y!, f.m! - 1, f.d!, f.H!, f.M!, f.S!) + fractionMs - offsetMinutes * 60_000;
}
