import decodeAudio from 'audio-decode';
import getType from 'audio-type';
import { flacDeclaredFrames, mp3Truncation, oggTruncation, wavFormat, wavTruncation } from './container-check.js';
import { InputError } from './input-error.js';

/** Formats accepted, by what the bytes are (never by the file name). */
export const SUPPORTED_FORMATS: Record<string, string> = { wav: 'WAV', mp3: 'MP3', flac: 'FLAC', oga: 'OGG Vorbis' };

const FIRST_CHUNK = 16 * 1024;
const CHUNK = 1024 * 1024;
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
 * Decodes the whole upload to mono, feeding the decoder chunk by chunk: a small first chunk shows
 * the channel count and sample rate before anything large is allocated (a header claiming 65,535
 * channels is refused there), and decoding stops as soon as the audio passes `maxSeconds`.
 */
export async function decodeUpload(bytes: Uint8Array, maxSeconds: number): Promise<DecodedAudio> {
  const type = getType(bytes);
  if (!type) throw new InputError('unsupported_format', 'the file is not audio in a supported format (WAV, MP3, FLAC or OGG Vorbis)');
  const name = SUPPORTED_FORMATS[type];
  if (!name) throw new InputError('unsupported_format', `${type} audio is not supported; send WAV, MP3, FLAC or OGG Vorbis`);
  const factory = (decodeAudio as unknown as Record<string, DecoderFactory>)[type];
  if (!factory) throw new InputError('unsupported_format', `no decoder for ${name}`);

  const header = type === 'wav' ? wavFormat(bytes) : null;
  if (header) checkShape(name, header.channels, header.sampleRate);
  const wavProblem = type === 'wav' ? wavTruncation(bytes) : null;
  if (wavProblem) throw new InputError('corrupt_audio', `truncated WAV: ${wavProblem.message}`);
  const containerProblem = type === 'oga' ? oggTruncation(bytes) : type === 'mp3' ? mp3Truncation(bytes) : null;
  if (containerProblem) throw new InputError('corrupt_audio', `truncated ${name}: ${containerProblem.message}`);

  const decoder = await factory();
  const blocks: Float32Array[] = [];
  let frames = 0;
  let sampleRate = 0;
  let channels = 0;
  const take = (out: { channelData: Float32Array[]; sampleRate: number }): void => {
    const data = out.channelData;
    if (data.length === 0 || (data[0]?.length ?? 0) === 0) return;
    if (channels === 0) {
      channels = data.length;
      sampleRate = out.sampleRate;
      checkShape(name, channels, sampleRate);
    }
    const length = data[0]?.length ?? 0;
    const mono = new Float32Array(length);
    for (const channel of data) for (let i = 0; i < length; i++) mono[i] = (mono[i] ?? 0) + (channel[i] ?? 0) / data.length;
    blocks.push(mono);
    frames += length;
    if (frames / sampleRate > maxSeconds) {
      throw new InputError('audio_too_long', `the audio is longer than the limit of ${Math.round(maxSeconds / 60)} minutes`);
    }
  };
  try {
    for (let offset = 0; offset < bytes.length; ) {
      const size = offset === 0 ? FIRST_CHUNK : CHUNK;
      take(await decoder(bytes.subarray(offset, offset + size)));
      offset += size;
    }
    take(await decoder());
  } catch (err) {
    if (err instanceof InputError) throw err;
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
  const mono = new Float32Array(frames);
  let at = 0;
  for (const block of blocks.splice(0)) {
    mono.set(block, at);
    at += block.length;
  }
  return { format: type === 'oga' ? 'ogg' : type, mono, sampleRate, channels, durationSeconds: frames / sampleRate };
}
