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

/** The first RIFF chunk `id` of a WAV file: where its body starts and the size it declares. */
function riffChunk(b: Uint8Array, id: string): { body: number; size: number } | null {
  if (b.length < 12 || fourcc(b, 0) !== 'RIFF' || fourcc(b, 8) !== 'WAVE') return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let pos = 12; pos + 8 <= b.length; ) {
    const size = view.getUint32(pos + 4, true);
    if (fourcc(b, pos) === id) return { body: pos + 8, size };
    pos += 8 + size + (size & 1);
  }
  return null;
}

/** WAV: the `data` chunk declares more bytes than the file holds. */
export function wavTruncation(b: Uint8Array): Truncation | null {
  const data = riffChunk(b, 'data');
  // 0 and 0xFFFFFFFF mean "until the end" (streamed WAV).
  if (!data || data.size === 0 || data.size === 0xffffffff) return null;
  const available = b.length - data.body;
  return available < data.size ? { truncated: true, message: `the WAV data chunk declares ${data.size} bytes but the file holds ${available}` } : null;
}

/** WAV: the `fmt ` chunk's channel count and rate, read before any decoding. */
export function wavFormat(b: Uint8Array): { channels: number; sampleRate: number } | null {
  const fmt = riffChunk(b, 'fmt ');
  if (!fmt || fmt.body + 16 > b.length) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { channels: view.getUint16(fmt.body + 2, true), sampleRate: view.getUint32(fmt.body + 4, true) };
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

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Bytes of the Layer III frame whose header starts at `pos`, or 0 when there is no valid header there. */
function mp3FrameLength(b: Uint8Array, pos: number): number {
  if (pos + 4 > b.length || b[pos] !== 0xff || ((b[pos + 1] ?? 0) & 0xe0) !== 0xe0) return 0;
  const version = ((b[pos + 1] ?? 0) >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
  const layer = ((b[pos + 1] ?? 0) >> 1) & 3; // 1 = Layer III
  const bitrateIndex = ((b[pos + 2] ?? 0) >> 4) & 15;
  const rateIndex = ((b[pos + 2] ?? 0) >> 2) & 3;
  const padding = ((b[pos + 2] ?? 0) >> 1) & 1;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const bitrate = (version === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[bitrateIndex] ?? 0;
  const rate = MP3_RATES[version]?.[rateIndex] ?? 0;
  if (!bitrate || !rate) return 0;
  return Math.floor(((version === 3 ? 144 : 72) * bitrate * 1000) / rate) + padding;
}

/** MP3: the last Layer III frame runs past the end of the file (the decoder drops it silently). */
export function mp3Truncation(b: Uint8Array): Truncation | null {
  let pos = 0;
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    // ID3v2 tag: its size is four 7-bit bytes.
    pos = 10 + (((b[6] ?? 0) << 21) | ((b[7] ?? 0) << 14) | ((b[8] ?? 0) << 7) | (b[9] ?? 0));
  }
  while (pos < b.length && mp3FrameLength(b, pos) === 0) pos++;
  let end = b.length;
  if (end >= 128 && b[end - 128] === 0x54 && b[end - 127] === 0x41 && b[end - 126] === 0x47) end -= 128; // ID3v1 "TAG"
  let frames = 0;
  while (pos < end) {
    if (frames > 0 && end - pos < 4 && b[pos] === 0xff) {
      return { truncated: true, message: `the file ends inside an MP3 frame header (after ${frames} whole frames)` };
    }
    const length = mp3FrameLength(b, pos);
    if (length === 0) return null; // not a clean frame chain: leave it to the decoder
    if (pos + length > end) {
      return { truncated: true, message: `the last MP3 frame needs ${pos + length - end} more bytes than the file holds (after ${frames} whole frames)` };
    }
    pos += length;
    frames++;
  }
  return null;
}
