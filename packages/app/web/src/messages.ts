/** Every error the API can answer, as a sentence a musician understands (the code stays out of sight). */
import type { ApiErrorBody } from './types.js';

export interface ErrorSentence {
  /** What happened and what to do, in plain words. */
  text: string;
  /** Seconds after which trying again makes sense (busy, restarting), if the service said so. */
  retryAfterSeconds: number | null;
}

const firstNumber = (message: string, unit: RegExp): string | null => {
  const m = new RegExp(`(\\d+(?:\\.\\d+)?)\\s*${unit.source}`, 'i').exec(message);
  return m?.[1] ?? null;
};

export function errorSentence(error: ApiErrorBody, fileName: string, retryAfterSeconds: number | null): ErrorSentence {
  const wait = retryAfterSeconds ?? 10;
  const retry = (text: string): ErrorSentence => ({ text, retryAfterSeconds: wait });
  const plain = (text: string): ErrorSentence => ({ text, retryAfterSeconds: null });
  const name = fileName ? `“${fileName}”` : 'This file';
  switch (error.error) {
    case 'unsupported_format':
      return plain(`${name} isn't a recording the analyser can read. Send a WAV, MP3, FLAC or OGG file (export it from your recording app in one of those formats).`);
    case 'corrupt_audio':
      return plain(`${name} looks damaged or cut short, so it couldn't be played back. Export or copy the take again and upload the new file.`);
    case 'audio_too_long': {
      const minutes = firstNumber(error.message, /min/);
      return plain(`This take is too long to analyse${minutes ? ` (the limit is ${minutes} minutes)` : ''}. Trim it, or split it into shorter parts.`);
    }
    case 'file_too_large': {
      const limit = firstNumber(error.message, /MB/);
      return plain(`${name} is too big to upload${limit ? ` (the limit is ${limit} MB)` : ''}. Try a shorter take, or save it as MP3 or OGG, which are much smaller.`);
    }
    case 'empty_file':
      return plain(`${name} is empty: there is no sound in it to analyse.`);
    case 'missing_file':
      return plain('Choose a recording first.');
    case 'too_many_files':
      return plain('Send one recording at a time.');
    case 'bad_request':
      if (/hint|tempo|key/i.test(error.message)) {
        return plain(`The analyser didn't accept your hint (${error.message.replace(/\.$/, '')}). Correct it or leave it empty, then try again.`);
      }
      return plain("The page couldn't send your file in a way the service understands. Reload the page and try again.");
    case 'not_multipart':
    case 'malformed_multipart':
    case 'too_many_parts':
      return plain("The page couldn't send your file in a way the service understands. Reload the page and try again.");
    case 'request_timeout':
      return plain('The upload stalled and the analyser stopped waiting for it. Check your connection and try again.');
    case 'headers_too_large':
      return plain("The page's request was too large for the analyser to read. Reload the page and try again.");
    case 'not_found':
      return plain("The page couldn't find the analyser at this address. Reload the page; if it keeps happening, the service is set up wrongly.");
    case 'queue_full':
      return retry(`The analyser is busy with other takes right now. Try again in ${wait} seconds.`);
    case 'shutting_down':
      return retry(`The analyser is restarting. Try again in ${wait} seconds.`);
    case 'analysis_out_of_memory':
    case 'insufficient_memory':
      return plain('This take needs more memory than the analyser has free right now. Try a shorter take, or try again in a few minutes.');
    case 'analysis_failed':
      return plain("Something went wrong on the analyser's side with this take. Try again; if it happens again, the people running the service can look it up in their log.");
    case 'network':
      return plain("Couldn't reach the analyser. Check your connection and try again.");
    case 'unavailable':
      return retry(`The analyser can't be reached right now. Try again in ${wait} seconds.`);
    case 'unexpected_answer':
      return plain("The analyser gave an answer this page doesn't understand. Reload the page and try again.");
    case 'stream_cut':
      return plain('The connection was cut before the analysis finished. Try again.');
    case 'aborted':
      return plain('The upload was cancelled.');
    default:
      // A refusal this page does not know yet: the service's own message is written for people.
      return plain(`The analyser couldn't take this recording: ${error.message.replace(/\.$/, '')}.`);
  }
}
