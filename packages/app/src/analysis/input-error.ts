/** A problem with the uploaded audio itself: answered with 4xx, never a crash. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly code: 'unsupported_format' | 'corrupt_audio' | 'audio_too_long',
    message: string,
  ) {
    super(message);
  }
}
