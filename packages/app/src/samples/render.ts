import { renderSong, type SongSpec, type SongTruth, DEFAULT_SONG } from './synth.js';
import { pcm16, wavHeader, WavFileWriter } from './wav.js';

/** A whole WAV file in memory (for tests and short clips). */
export function songWav(overrides: Partial<SongSpec> = {}): { wav: Buffer; truth: SongTruth; spec: SongSpec } {
  const spec = { ...DEFAULT_SONG, ...overrides };
  const parts: Buffer[] = [];
  let frames = 0;
  const truth = renderSong(spec, (block) => {
    parts.push(pcm16(block.channels, block.frames));
    frames += block.frames;
  });
  return { wav: Buffer.concat([wavHeader(frames, spec.channels, spec.sampleRate), ...parts]), truth, spec };
}

/** Writes the song to a WAV file, streaming; returns the truth. */
export function writeSongWav(file: string, overrides: Partial<SongSpec> = {}): SongTruth {
  const spec = { ...DEFAULT_SONG, ...overrides };
  const writer = new WavFileWriter(file, Math.round(spec.seconds * spec.sampleRate), spec.channels, spec.sampleRate);
  try {
    return renderSong(spec, (block) => writer.write(block.channels, block.frames));
  } finally {
    writer.close();
  }
}
