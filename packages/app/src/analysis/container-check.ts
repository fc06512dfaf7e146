/**
 * What a container says about its own length, to tell a truncated upload from a short recording.
 * The decoders read past a missing end silently; these checks read only fixed header fields
 * (RIFF chunk sizes, FLAC STREAMINFO, the Ogg end-of-stream flag), never the audio.
 */

export interface Truncation {
  truncated: true;
  message: string;
}

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o] ?? 0, b[o + 1] ?? 0, b[o + 2] ?? 0, b[o + 3] ?? 0);
}

/** WAV: the `data` chunk declares more bytes than the file holds. */
export function wavTruncation(b: Uint8Array): Truncation | null {
  if (b.length < 12 || fourcc(b, 0) !== 'RIFF' || fourcc(b, 8) !== 'WAVE') return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 12;
  while (pos + 8 <= b.length) {
    const size = view.getUint32(pos + 4, true);
    if (fourcc(b, pos) === 'data') {
      // 0 and 0xFFFFFFFF mean "until the end" (streamed WAV).
      if (size === 0 || size === 0xffffffff) return null;
      const available = b.length - (pos + 8);
      return available < size
        ? { truncated: true, message: `the WAV data chunk declares ${size} bytes but the file holds ${available}` }
        : null;
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

/** FLAC: STREAMINFO's total sample count (when set), for comparison with what was decoded. */
export function flacDeclaredFrames(b: Uint8Array): number | null {
  if (b.length < 42 || fourcc(b, 0) !== 'fLaC' || ((b[4] ?? 0) & 0x7f) !== 0) return null;
  const high = (b[21] ?? 0) & 0x0f;
  const low = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(22, false);
  const total = high * 2 ** 32 + low;
  return total > 0 ? total : null;
}

/** Ogg: the last page of a complete stream carries the end-of-stream flag. */
export function oggTruncation(b: Uint8Array): Truncation | null {
  const from = Math.max(0, b.length - 65_536 - 27);
  for (let i = b.length - 27; i >= from; i--) {
    if (b[i] === 0x4f && b[i + 1] === 0x67 && b[i + 2] === 0x67 && b[i + 3] === 0x53) {
      const endOfStream = ((b[i + 5] ?? 0) & 0x04) !== 0;
      return endOfStream ? null : { truncated: true, message: 'the Ogg stream ends without its end-of-stream page' };
    }
  }
  return { truncated: true, message: 'no complete Ogg page near the end of the file' };
}
