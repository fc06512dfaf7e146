declare module 'audio-type' {
  /** The audio format the bytes start with (`wav`, `mp3`, `flac`, `oga`, `opus`, …), or undefined. Reads the whole of `bytes.buffer`. */
  export default function audioType(bytes: Uint8Array): string | undefined;
  /** The offset right after the ID3v2 tag the bytes start with, or 0 when they start with none. */
  export function skipId3(bytes: Uint8Array): number;
}
