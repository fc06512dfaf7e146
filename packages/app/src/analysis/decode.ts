import decodeAudio from 'audio-decode';
import getType from 'audio-type';
import { containerFacts, flacDeclaredFrames, HeaderProblem, mp3Junk, mp3Truncation, oggTruncation, wavLayout, wavTruncation, type ContainerFacts, type WavLayout } from './container-check.js';
import { InputError } from './input-error.js';

/** Formats accepted, by what the bytes are (never by the file name). */
export const SUPPORTED_FORMATS: Record<string, string> = { wav: 'WAV', mp3: 'MP3', flac: 'FLAC', oga: 'OGG Vorbis' };

const FIRST_CHUNK = 16 * 1024;
const CHUNK = 256 * 1024;
/** FLAC and Vorbis can hold a long silence in a few bytes: they are fed in smaller pieces, so one call's output stays small. */
const AMPLIFYING = new Set(['flac', 'oga']);
const SMALL_CHUNK = 64 * 1024;
/**
 * The most sample frames one byte of each format can carry: FLAC's largest block (65,535 samples)
 * in a constant subframe of about 8 bytes; Vorbis' longest block (8,192) in a one-byte packet. A
 * length declared beyond that is a corrupt header, not a long recording.
 */
const MAX_FRAMES_PER_BYTE: Record<string, number> = { flac: 8192, oga: 8192 };
const MAX_CHANNELS = 8;
const MIN_RATE = 8000;
const MAX_RATE = 384_000;

export interface DecodedAudio {
  format: string;
  /** The channels averaged into one. */
  mono: Float32Array;
  sampleRate: number;
  channels: number;
  durationSeconds: number;
}

type StreamDecoder = ((chunk?: Uint8Array) => Promise<{ channelData: Float32Array[]; sampleRate: number }>) & { free(): void };
type DecoderFactory = () => Promise<StreamDecoder>;

/** Refuses channel counts and sample rates no recording has (a lying header would make the decoder allocate gigabytes). */
function checkShape(name: string, channels: number, sampleRate: number): void {
  if (channels < 1 || channels > MAX_CHANNELS) throw new InputError('corrupt_audio', `the ${name} header declares ${channels} channels (accepted: 1–${MAX_CHANNELS})`);
  if (!(sampleRate >= MIN_RATE && sampleRate <= MAX_RATE)) {
    throw new InputError('corrupt_audio', `the ${name} header declares a sample rate of ${sampleRate} Hz (accepted: ${MIN_RATE}–${MAX_RATE})`);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The downmixed signal as it is decoded: written into one array when the length is known in
 * advance, else kept in blocks and joined once at the end.
 */
class MonoSignal {
  private whole: Float32Array | null;
  private readonly blocks: Float32Array[] = [];
  private frames = 0;

  constructor(knownFrames: number | null) {
    this.whole = knownFrames && knownFrames > 0 ? new Float32Array(knownFrames) : null;
  }

  /** Zeroed room for the next `length` frames. */
  next(length: number): Float32Array {
    if (this.whole && this.frames + length > this.whole.length) {
      // More than the header said: carry on in blocks.
      this.blocks.push(this.whole.subarray(0, this.frames));
      this.whole = null;
    }
    const room = this.whole ? this.whole.subarray(this.frames, this.frames + length) : new Float32Array(length);
    if (!this.whole) this.blocks.push(room);
    this.frames += length;
    return room;
  }

  finish(): Float32Array {
    if (this.whole) return this.frames === this.whole.length ? this.whole : this.whole.subarray(0, this.frames);
    const mono = new Float32Array(this.frames);
    let at = 0;
    for (const block of this.blocks.splice(0)) {
      mono.set(block, at);
      at += block.length;
    }
    return mono;
  }
}

/** The decode passed `stopAfterSeconds`: the memory guard refuses what the container did not measure. */
export class DecodeStopped extends Error {
  override readonly name = 'DecodeStopped';
  constructor(readonly seconds: number) {
    super(`decoding stopped after ${seconds.toFixed(1)} s of audio`);
  }
}

/** The container's own facts, read before decoding: what the guard and the length limit judge. */
export interface InspectedUpload {
  type: string;
  name: string;
  facts: ContainerFacts | null;
  /** Seconds of audio the container declares or its frame headers add up to (null: it does not say). */
  estimatedSeconds: number | null;
  /** WAV: a canonical header for the decoder, and where the audio data lies in the upload. */
  wav: { header: Uint8Array; dataStart: number; dataEnd: number } | null;
}

/** A RIFF header holding only the upload's `fmt ` chunk and a `data` chunk of `dataSize` bytes. */
function canonicalWavHeader(bytes: Uint8Array, layout: WavLayout): Uint8Array {
  const fmtSize = Math.min(layout.fmt.size, bytes.length - layout.fmt.body);
  const padded = fmtSize + (fmtSize & 1);
  const header = new Uint8Array(12 + 8 + padded + 8);
  const view = new DataView(header.buffer);
  header.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  view.setUint32(4, Math.min(0xffffffff, header.length - 8 + layout.data.size), true);
  header.set([0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20], 8); // WAVEfmt
  view.setUint32(16, fmtSize, true);
  header.set(bytes.subarray(layout.fmt.body, layout.fmt.body + fmtSize), 20);
  header.set([0x64, 0x61, 0x74, 0x61], 20 + padded); // data
  view.setUint32(24 + padded, layout.data.size, true);
  return header;
}

/**
 * Reads what the container says before anything is decoded: the format (from the bytes, never the
 * name), channels and rate (absurd values refused), truncation, and the length, which must be
 * within `maxSeconds`. Headers that contradict themselves are refused here (422), so a lying header
 * cannot make the decoder allocate gigabytes.
 */
export function inspectUpload(bytes: Uint8Array, maxSeconds: number): InspectedUpload {
  const type = getType(bytes);
  if (!type) throw new InputError('unsupported_format', 'the file is not audio in a supported format (WAV, MP3, FLAC or OGG Vorbis)');
  const name = SUPPORTED_FORMATS[type];
  if (!name) throw new InputError('unsupported_format', `${type} audio is not supported; send WAV, MP3, FLAC or OGG Vorbis`);

  const wavProblem = type === 'wav' ? wavTruncation(bytes) : null;
  if (wavProblem) throw new InputError('corrupt_audio', `truncated WAV: ${wavProblem.message}`);
  const layout = type === 'wav' ? wavLayout(bytes) : null;
  if (layout) checkShape(name, layout.channels, layout.sampleRate);
  let facts: ContainerFacts | null;
  try {
    facts = containerFacts(type, bytes);
  } catch (err) {
    if (err instanceof HeaderProblem) throw new InputError('corrupt_audio', err.message);
    throw err;
  }
  if (facts) checkShape(name, facts.channels, facts.sampleRate);
  const containerProblem = type === 'oga' ? oggTruncation(bytes) : type === 'mp3' ? mp3Truncation(bytes) : null;
  if (containerProblem) throw new InputError('corrupt_audio', `truncated ${name}: ${containerProblem.message}`);
  const junk = type === 'mp3' ? mp3Junk(bytes) : null;
  if (junk) throw new InputError('corrupt_audio', junk);

  let wav: InspectedUpload['wav'] = null;
  if (type === 'wav') {
    if (!layout) throw new InputError('corrupt_audio', 'no audio could be decoded from this WAV file: it has no fmt and data chunks');
    wav = { header: canonicalWavHeader(bytes, layout), dataStart: layout.data.body, dataEnd: layout.data.body + layout.data.size };
  }
  const declaredFrames = facts?.frames ?? null;
  const estimatedSeconds = facts && declaredFrames !== null && facts.sampleRate > 0 ? declaredFrames / facts.sampleRate : null;
  const most = MAX_FRAMES_PER_BYTE[type] ?? Infinity;
  if (declaredFrames !== null && declaredFrames > bytes.length * most) {
    throw new InputError('corrupt_audio', `the ${name} header declares ${declaredFrames} samples per channel, more than ${bytes.length} bytes of ${name} can hold`);
  }
  // An estimate (MP3 frame headers) may be a little long; a declared length is exact.
  if (estimatedSeconds !== null && estimatedSeconds > maxSeconds * (facts?.exact ? 1 : 1.02)) {
    throw new InputError('audio_too_long', `the audio is longer than the limit of ${Math.round(maxSeconds / 60)} minutes (${(estimatedSeconds / 60).toFixed(1)} minutes, from its header)`);
  }
  return { type, name, facts, estimatedSeconds, wav };
}

/** The pieces fed to the decoder: small first (the shape is checked before anything large), then CHUNK each. */
function* pieces(bytes: Uint8Array, inspected: InspectedUpload): Generator<Uint8Array> {
  let from = 0;
  let to = bytes.length;
  if (inspected.wav) {
    yield inspected.wav.header;
    from = inspected.wav.dataStart;
    to = inspected.wav.dataEnd;
  }
  const chunk = AMPLIFYING.has(inspected.type) ? SMALL_CHUNK : CHUNK;
  for (let offset = from, first = true; offset < to; first = false) {
    const size = first ? FIRST_CHUNK : chunk;
    yield bytes.subarray(offset, Math.min(to, offset + size));
    offset += size;
  }
}

/**
 * Decodes the whole upload to mono, feeding the decoder piece by piece: the channel count and
 * sample rate are checked on the first output, and decoding stops as soon as the audio passes
 * `maxSeconds` or what the container declared (plus a margin): a lying header cannot make the
 * decoder run on for minutes of audio the upload does not hold.
 */
export async function decodeUpload(
  bytes: Uint8Array,
  maxSeconds: number,
  inspected: InspectedUpload = inspectUpload(bytes, maxSeconds),
  /** Where the memory guard stops a decode whose length the container did not declare (DecodeStopped). */
  stopAfterSeconds = Infinity,
): Promise<DecodedAudio> {
  const { type, name, facts } = inspected;
  const factory = (decodeAudio as unknown as Record<string, DecoderFactory>)[type];
  if (!factory) throw new InputError('unsupported_format', `no decoder for ${name}`);

  const decoder = await factory();
  // A WAV's length is known from its data size: its signal is written into one array as it decodes
  // (half the memory of blocks joined at the end, which the other formats need).
  const signal = new MonoSignal(type === 'wav' ? (facts?.frames ?? null) : null);
  let frames = 0;
  let sampleRate = 0;
  let channels = 0;
  // At most what the container declares, and one second and 2 % more (decoder delay, padding).
  const declaredFrames = facts?.frames ?? null;
  // (An MP3's count is an estimate, and MP3 cannot carry more than a dozen samples per byte anyway.)
  const declaredLimit = facts?.exact && declaredFrames !== null && facts.sampleRate > 0 ? declaredFrames * 1.02 + facts.sampleRate : Infinity;
  const take = (out: { channelData: Float32Array[]; sampleRate: number }): void => {
    const data = out.channelData;
    if (data.length === 0 || (data[0]?.length ?? 0) === 0) return;
    if (channels === 0) {
      channels = data.length;
      sampleRate = out.sampleRate;
      checkShape(name, channels, sampleRate);
    }
    const length = data[0]?.length ?? 0;
    const mono = signal.next(length);
    for (const channel of data) for (let i = 0; i < length; i++) mono[i] = (mono[i] ?? 0) + (channel[i] ?? 0) / data.length;
    frames += length;
    if (frames / sampleRate > maxSeconds) {
      throw new InputError('audio_too_long', `the audio is longer than the limit of ${Math.round(maxSeconds / 60)} minutes`);
    }
    if (frames / sampleRate > stopAfterSeconds) throw new DecodeStopped(frames / sampleRate);
    if (frames > declaredLimit) {
      throw new InputError('corrupt_audio', `the ${name} data decodes to more audio than its header declares (${declaredFrames} samples per channel)`);
    }
  };
  try {
    for (const piece of pieces(bytes, inspected)) take(await decoder(piece));
    take(await decoder());
  } catch (err) {
    if (err instanceof InputError || err instanceof DecodeStopped) throw err;
    const message = describe(err);
    // e.g. "Unsupported WAV format: 0x55" (MP3 inside a WAV container): a codec this service does not decode.
    if (/unsupported/i.test(message)) throw new InputError('unsupported_format', `this ${name} file uses a codec the service does not decode (${message})`);
    throw new InputError('corrupt_audio', `the ${name} data could not be decoded: ${message}`);
  } finally {
    try {
      decoder.free();
    } catch {
      // already freed by the end-of-stream call
    }
  }
  if (frames === 0 || sampleRate === 0) throw new InputError('corrupt_audio', `no audio could be decoded from this ${name} file`);
  if (type === 'flac') {
    const declared = flacDeclaredFrames(bytes);
    if (declared !== null && frames < declared * 0.99) {
      throw new InputError('corrupt_audio', `truncated FLAC: STREAMINFO declares ${declared} samples per channel, ${frames} could be decoded`);
    }
  }
  return { format: type === 'oga' ? 'ogg' : type, mono: signal.finish(), sampleRate, channels, durationSeconds: frames / sampleRate };
}
