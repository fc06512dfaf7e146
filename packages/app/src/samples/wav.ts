import fs from 'node:fs';

/** 16-bit PCM WAV: header for a known length, then interleaved samples. */
export function wavHeader(frames: number, channels: number, sampleRate: number): Buffer {
  const bytesPerSample = 2;
  const dataBytes = frames * channels * bytesPerSample;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * bytesPerSample, 28);
  h.writeUInt16LE(channels * bytesPerSample, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function pcm16(channels: Float32Array[], frames: number): Buffer {
  const out = Buffer.alloc(frames * channels.length * 2);
  let o = 0;
  for (let i = 0; i < frames; i++) {
    for (const ch of channels) {
      const v = Math.max(-1, Math.min(1, ch[i] ?? 0));
      out.writeInt16LE(Math.round(v * 32767), o);
      o += 2;
    }
  }
  return out;
}

/** Writes blocks to a WAV file as they come. */
export class WavFileWriter {
  private readonly fd: number;
  constructor(file: string, frames: number, channels: number, sampleRate: number) {
    this.fd = fs.openSync(file, 'w');
    fs.writeSync(this.fd, wavHeader(frames, channels, sampleRate));
  }
  write(channels: Float32Array[], frames: number): void {
    fs.writeSync(this.fd, pcm16(channels, frames));
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}
