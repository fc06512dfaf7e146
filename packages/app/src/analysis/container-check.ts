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

/** Where the first Layer III frame header is (after an ID3v2 tag), or -1. */
function mp3FirstFrame(b: Uint8Array): number {
  let pos = 0;
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    // ID3v2 tag: its size is four 7-bit bytes.
    pos = 10 + (((b[6] ?? 0) << 21) | ((b[7] ?? 0) << 14) | ((b[8] ?? 0) << 7) | (b[9] ?? 0));
  }
  while (pos < b.length && mp3FrameLength(b, pos) === 0) pos++;
  return pos < b.length ? pos : -1;
}

/** Where an MP3's frames end: before an ID3v1 tag ("TAG", the last 128 bytes), else at the end of the file. */
function mp3AudioEnd(b: Uint8Array): number {
  const end = b.length;
  return end >= 128 && b[end - 128] === 0x54 && b[end - 127] === 0x41 && b[end - 126] === 0x47 ? end - 128 : end;
}

/** MP3: the last Layer III frame runs past the end of the file (the decoder drops it silently). */
export function mp3Truncation(b: Uint8Array): Truncation | null {
  const first = mp3FirstFrame(b);
  let pos = first < 0 ? b.length : first;
  const end = mp3AudioEnd(b);
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

/** Frames in a row, with the first frame's version and rate, that count as MP3 audio again after junk. */
const MP3_RESYNC_FRAMES = 3;
/** Bytes that are not frames beyond which an MP3 is refused: a few damaged frames pass, a file that is mostly something else does not. */
const MP3_JUNK_ALLOWANCE = { bytes: 64 * 1024, share: 0.1 };

/** The version and rate bits of the frame header at `pos` (frames of one stream share them). */
const mp3StreamBits = (b: Uint8Array, pos: number): number => (((b[pos + 1] ?? 0) & 0x18) << 8) | ((b[pos + 2] ?? 0) & 0x0c);

/** Whether `count` frames of the stream follow each other from `pos`. */
function mp3ChainAt(b: Uint8Array, pos: number, stream: number, count: number, end: number): boolean {
  for (let n = 0; n < count; n++) {
    const length = mp3FrameLength(b, pos);
    if (length === 0 || pos + length > end || mp3StreamBits(b, pos) !== stream) return false;
    pos += length;
  }
  return true;
}

/**
 * MP3: how much of the file, after its first frames, is not MPEG audio. The decoder resynchronises
 * on any frame-sync pattern, and random bytes hold many, so junk after real frames decodes to
 * seconds of noise per megabyte, reported as the recording. Walking the chain of frame headers, a
 * break is junk until a chain of frames of the same stream starts again; past the allowance the
 * file is refused (the reason is returned). A file whose first frames do not chain is left to the decoder.
 */
export function mp3Junk(b: Uint8Array): string | null {
  const first = mp3FirstFrame(b);
  const end = mp3AudioEnd(b);
  if (first < 0 || !mp3ChainAt(b, first, mp3StreamBits(b, first), MP3_RESYNC_FRAMES, end)) return null;
  const stream = mp3StreamBits(b, first);
  let pos = first;
  let junk = 0;
  let firstJunk = -1;
  while (pos < end) {
    const length = mp3FrameLength(b, pos);
    if (length > 0 && pos + length <= end && mp3StreamBits(b, pos) === stream) {
      pos += length;
      continue;
    }
    // The chain breaks here: junk up to where frames of the stream chain again (or the end).
    if (end - pos < 4 || pos + length > end) break; // a last frame cut short: mp3Truncation's concern
    if (firstJunk < 0) firstJunk = pos;
    let next = pos + 1;
    while (next < end && !(b[next] === 0xff && mp3ChainAt(b, next, stream, MP3_RESYNC_FRAMES, end))) next++;
    junk += next - pos;
    pos = next;
  }
  const allowed = Math.max(MP3_JUNK_ALLOWANCE.bytes, MP3_JUNK_ALLOWANCE.share * (b.length - first));
  if (junk <= allowed) return null;
  const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
  return `${mb(junk)} MB of this ${mb(b.length)} MB MP3 file are not MPEG audio frames (the first from byte ${firstJunk}): the file is damaged, or is not one MP3 recording`;
}

/**
 * What the container says about the audio before a byte of it is decoded: its shape and how many
 * sample frames its data can hold. `frames` is null when the container does not say (a FLAC
 * without a total, an MP3 whose frame chain is not clean). `exact`: the count is declared (WAV,
 * FLAC, Ogg granule), not estimated from frame headers (MP3).
 */
export interface ContainerFacts {
  channels: number;
  sampleRate: number;
  frames: number | null;
  exact: boolean;
}

/** A header that contradicts itself: refused before decoding (422). */
export class HeaderProblem extends Error {
  override readonly name = 'HeaderProblem';
}

const WAV_FORMAT_PCM = 1;
const WAV_FORMAT_MS_ADPCM = 2;
const WAV_FORMAT_FLOAT = 3;
const WAV_FORMAT_ALAW = 6;
const WAV_FORMAT_MULAW = 7;
const WAV_FORMAT_IMA_ADPCM = 0x11;
const WAV_FORMAT_EXTENSIBLE = 0xfffe;

/** A WAV file's `fmt ` chunk and where its audio data lies (the data chunk as far as the file holds it). */
export interface WavLayout {
  formatTag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  /** ADPCM: samples per block from the fmt extension (0 when absent). */
  samplesPerBlock: number;
  /** The fmt chunk's body, as declared. */
  fmt: { body: number; size: number };
  data: { body: number; size: number };
}

/**
 * Reads the `fmt ` and `data` chunks, stepping over any other chunk and its RIFF pad byte. The
 * data size is what the file holds of it (0 and 0xFFFFFFFF mean "until the end": streamed WAV).
 */
export function wavLayout(b: Uint8Array): WavLayout | null {
  const fmt = riffChunk(b, 'fmt ');
  const data = riffChunk(b, 'data');
  if (!fmt || !data || fmt.size < 16 || fmt.body + 16 > b.length) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let formatTag = view.getUint16(fmt.body, true);
  const cbSize = fmt.size >= 18 && fmt.body + 18 <= b.length ? view.getUint16(fmt.body + 16, true) : 0;
  if (formatTag === WAV_FORMAT_EXTENSIBLE && fmt.size >= 40 && fmt.body + 26 <= b.length) formatTag = view.getUint16(fmt.body + 24, true);
  const declared = data.size === 0 || data.size === 0xffffffff ? Infinity : data.size;
  return {
    formatTag,
    channels: view.getUint16(fmt.body + 2, true),
    sampleRate: view.getUint32(fmt.body + 4, true),
    blockAlign: view.getUint16(fmt.body + 12, true),
    bitsPerSample: view.getUint16(fmt.body + 14, true),
    samplesPerBlock: cbSize >= 2 && fmt.body + 20 <= b.length ? view.getUint16(fmt.body + 18, true) : 0,
    fmt,
    data: { body: data.body, size: Math.max(0, Math.min(declared, b.length - data.body)) },
  };
}

/**
 * Sample frames the WAV data can hold, by codec, after checking that the header agrees with
 * itself: PCM, float and G.711 carry one frame per `blockAlign` bytes; MS and IMA ADPCM at most
 * two samples per byte after each block's preamble, so a header claiming 65,535 samples in a
 * 1-byte block (which would make a 16 KB upload decode to gigabytes) is refused here.
 */
export function wavFrames(w: WavLayout): number | null {
  const { formatTag, channels: ch, blockAlign: ba, bitsPerSample: bits } = w;
  if (ch === 0 || ba === 0) throw new HeaderProblem(`the WAV header declares a block size of ${ba} bytes for ${ch} channels`);
  const blocks = Math.floor(w.data.size / ba);
  switch (formatTag) {
    case WAV_FORMAT_PCM:
    case WAV_FORMAT_FLOAT:
    case WAV_FORMAT_ALAW:
    case WAV_FORMAT_MULAW: {
      const bytes = Math.ceil(bits / 8);
      if (bits === 0 || ba !== ch * bytes) throw new HeaderProblem(`the WAV header's block size (${ba} bytes) does not match ${ch} channels of ${bits}-bit samples`);
      return blocks;
    }
    case WAV_FORMAT_MS_ADPCM: {
      // Per block: 7 preamble bytes per channel holding 2 samples, then one 4-bit sample per nibble.
      const most = ba > 7 * ch ? 2 + Math.floor(((ba - 7 * ch) * 2) / ch) : 0;
      const spb = w.samplesPerBlock || most;
      if (most === 0 || spb < 2 || spb > most) {
        throw new HeaderProblem(`the MS ADPCM header declares ${spb} samples per block of ${ba} bytes (${ch} channels hold at most ${most})`);
      }
      return blocks * spb;
    }
    case WAV_FORMAT_IMA_ADPCM: {
      // Per block: a 4-byte preamble per channel holding 1 sample, then 8 samples per 4-byte word per channel.
      const most = ba % (4 * ch) === 0 && ba > 4 * ch ? 1 + (ba / ch - 4) * 2 : 0;
      const spb = w.samplesPerBlock || most;
      if (most === 0 || spb < 1 || spb > most) {
        throw new HeaderProblem(`the IMA ADPCM header declares ${spb} samples per block of ${ba} bytes (${ch} channels hold at most ${most})`);
      }
      return blocks * spb;
    }
    default:
      return null; // a codec the decoder refuses by itself
  }
}

/** FLAC: STREAMINFO's rate, channels and total (null when the encoder did not set it). */
function flacFacts(b: Uint8Array): ContainerFacts | null {
  if (b.length < 42 || fourcc(b, 0) !== 'fLaC' || ((b[4] ?? 0) & 0x7f) !== 0) return null;
  const sampleRate = ((b[18] ?? 0) << 12) | ((b[19] ?? 0) << 4) | ((b[20] ?? 0) >> 4);
  const channels = (((b[20] ?? 0) >> 1) & 7) + 1;
  return { channels, sampleRate, frames: flacDeclaredFrames(b), exact: true };
}

/** Ogg Vorbis: the identification header's rate and channels; the last page's granule position is the length. */
function oggFacts(b: Uint8Array): ContainerFacts | null {
  if (b.length < 28 || fourcc(b, 0) !== 'OggS') return null;
  const packet = 27 + (b[26] ?? 0);
  if (packet + 16 > b.length || b[packet] !== 1 || String.fromCharCode(...b.subarray(packet + 1, packet + 7)) !== 'vorbis') return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const channels = b[packet + 11] ?? 0;
  const sampleRate = view.getUint32(packet + 12, true);
  let frames: number | null = null;
  const from = Math.max(0, b.length - 65_536 - 27);
  for (let i = b.length - 27; i >= from; i--) {
    if (b[i] === 0x4f && b[i + 1] === 0x67 && b[i + 2] === 0x67 && b[i + 3] === 0x53) {
      const granule = view.getUint32(i + 6, true) + view.getUint32(i + 10, true) * 2 ** 32;
      // -1 (all ones) means "no packet ends on this page"; anything else is the sample count so far.
      if (view.getUint32(i + 6, true) !== 0xffffffff || view.getUint32(i + 10, true) !== 0xffffffff) frames = granule;
      break;
    }
  }
  return { channels, sampleRate, frames, exact: frames !== null };
}

/** The share of an MP3 file its chain of frame headers must cover for the count to be its length. */
const MP3_CHAIN_COVERAGE = 0.9;

/** MP3: the first frame's rate and mode, and the frames counted along the chain of frame headers. */
function mp3Facts(b: Uint8Array): ContainerFacts | null {
  const first = mp3FirstFrame(b);
  if (first < 0) return null;
  let pos = first;
  const version = ((b[pos + 1] ?? 0) >> 3) & 3;
  const sampleRate = MP3_RATES[version]?.[((b[pos + 2] ?? 0) >> 2) & 3] ?? 0;
  const channels = ((b[pos + 3] ?? 0) >> 6) === 3 ? 1 : 2;
  const perFrame = version === 3 ? 1152 : 576;
  let frames = 0;
  let length = 0;
  while ((length = mp3FrameLength(b, pos)) > 0) {
    frames++;
    pos += length;
  }
  // Only a chain of frame headers that covers the file (bar a tag at its end) says how long it is;
  // a first "frame" found in junk, or a chain broken early, says nothing.
  const covered = (pos - first) / Math.max(1, b.length - first);
  const counted = frames >= 2 && covered >= MP3_CHAIN_COVERAGE ? frames * perFrame : null;
  return { channels, sampleRate, frames: counted, exact: false };
}

/** The container's facts for the formats the service decodes (`type` as audio-type names them). */
export function containerFacts(type: string, b: Uint8Array): ContainerFacts | null {
  if (type === 'wav') {
    const w = wavLayout(b);
    return w ? { channels: w.channels, sampleRate: w.sampleRate, frames: wavFrames(w), exact: true } : null;
  }
  if (type === 'flac') return flacFacts(b);
  if (type === 'oga') return oggFacts(b);
  if (type === 'mp3') return mp3Facts(b);
  return null;
}
