/**
 * The analysis worker (a piscina worker thread): decodes the upload and analyses it, posting
 * progress to the main thread. essentia.js loads when the worker starts. A worker whose
 * WebAssembly heap grew past the limit (it never shrinks) or whose essentia instance aborted
 * exits after answering; the pool starts a fresh one and the memory goes back to the system.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeAudio, isOutOfMemory } from './analyze.js';
import { decodeUpload } from './decode.js';
import { loadEssentia } from './essentia.js';
import { InputError } from './input-error.js';
import { describeVerdict, judgeMemory } from '../memory/guard.js';
import type { AnalysisJob, ProgressEvent, Stage, WorkerOutcome } from './types.js';

const loaded = loadEssentia();
let posted = 0;

function post(event: ProgressEvent): void {
  posted++;
  parentPort?.postMessage(event);
}

function retire(): void {
  // After piscina has posted the answer (it does so as soon as this task's promise settles).
  setTimeout(() => process.exit(0), 20);
}

export default async function analyze(job: AnalysisJob): Promise<WorkerOutcome> {
  posted = 0;
  let stage: Stage = 'decode';
  const progress = (event: ProgressEvent): void => {
    if (event.type === 'stage') stage = event.stage;
    post(event);
  };
  try {
    progress({ type: 'stage', requestId: job.requestId, stage: 'decode', rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
    const t = performance.now();
    const audio = await decodeUpload(new Uint8Array(job.bytes), job.maxAudioSeconds);
    const decodeMs = Math.round(performance.now() - t);
    progress({
      type: 'decoded',
      requestId: job.requestId,
      format: audio.format,
      durationSeconds: audio.durationSeconds,
      sampleRate: audio.sampleRate,
      channels: audio.channels,
      decodeMs,
      rssBytes: process.memoryUsage.rss(),
    });
    // The guard: the length is known now, the heavy algorithms have not started.
    const verdict = judgeMemory(audio.durationSeconds, process.memoryUsage.rss(), job.guard);
    if (verdict?.atRisk && job.guard.mode !== 'off') {
      post({ type: 'guard', requestId: job.requestId, mode: job.guard.mode, verdict });
      if (job.guard.mode === 'reject') {
        return {
          ok: false,
          code: 'insufficient_memory',
          message: `refused before analysis to keep the service up: ${describeVerdict(verdict)}; try a shorter recording`,
          retired: false,
          stage: 'decode',
          eventsPosted: posted,
        };
      }
    }
    const result = await analyzeAudio(audio, job.requestId, progress, loaded, {
      split: job.split,
      ...(job.hints ? { hints: job.hints } : {}),
      // The helper thread's events reach the main thread on their own channel; they count too.
      countExternalEvents: (n) => {
        posted += n;
      },
    });
    result.processing.decode_ms = decodeMs;
    const retired = loaded.heapBytes() > job.retireHeapBytes;
    if (retired) retire();
    return { ok: true, result, retired, eventsPosted: posted };
  } catch (err) {
    if (err instanceof InputError) return { ok: false, code: err.code, message: err.message, retired: false, stage, eventsPosted: posted };
    if (isOutOfMemory(err)) {
      retire();
      return {
        ok: false,
        code: 'analysis_out_of_memory',
        message: `the analysis ran out of memory during ${stage}: ${loaded.describe(err)}`,
        retired: true,
        stage,
        eventsPosted: posted,
      };
    }
    throw new Error(`analysis failed during ${stage}: ${loaded.describe(err)}`, { cause: err });
  }
}
