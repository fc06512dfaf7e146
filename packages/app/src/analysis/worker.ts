/**
 * The analysis worker (a piscina worker thread): decodes the upload and analyses it, posting
 * progress to the main thread. essentia.js loads when the worker starts. A worker whose
 * WebAssembly heap grew past the limit (it never shrinks) or whose essentia instance aborted
 * exits after answering; the pool starts a fresh one and the memory goes back to the system.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeAudio, isOutOfMemory } from './analyze.js';
import { DecodeStopped, decodeUpload, inspectUpload } from './decode.js';
import { loadEssentia } from './essentia.js';
import { InputError } from './input-error.js';
import { ASSUMED_SHAPE, describeVerdict, guardSeconds, judgeMemory, type GuardVerdict, type SignalShape } from '../memory/guard.js';
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
  const refuse = (verdict: GuardVerdict): WorkerOutcome => ({
    ok: false,
    code: 'insufficient_memory',
    message: `refused before analysis to keep the service up: ${describeVerdict(verdict)}; try a shorter recording`,
    retired: false,
    stage: 'decode',
    eventsPosted: posted,
  });
  /** The guard: a `guard` event when the estimate is at risk; the verdict when the job must be refused. */
  const guardRefuses = (audioSeconds: number, shape: SignalShape, basis: 'container' | 'decoded'): GuardVerdict | null => {
    const verdict = judgeMemory(audioSeconds, shape, process.memoryUsage.rss(), job.guard);
    if (!verdict?.atRisk || job.guard.mode === 'off') return null;
    post({ type: 'guard', requestId: job.requestId, mode: job.guard.mode, basis, verdict });
    return job.guard.mode === 'reject' ? verdict : null;
  };
  try {
    const bytes = new Uint8Array(job.bytes, job.byteOffset, job.byteLength);
    // Before decoding: the container's own facts (format, shape, length) are checked, and the guard
    // judges the length they declare, so a recording too long for the memory is refused before the
    // decoder allocates anything.
    const inspected = inspectUpload(bytes, job.maxAudioSeconds);
    const declaredShape: SignalShape = inspected.facts ? { sampleRate: inspected.facts.sampleRate, channels: inspected.facts.channels } : ASSUMED_SHAPE;
    const early = inspected.estimatedSeconds === null ? null : guardRefuses(inspected.estimatedSeconds, declaredShape, 'container');
    if (early) return refuse(early);
    progress({ type: 'stage', requestId: job.requestId, stage: 'decode', rssBytes: process.memoryUsage.rss(), wasmHeapBytes: loaded.heapBytes() });
    const t = performance.now();
    // Without a length from the container (a FLAC without its total), the decode itself stops where
    // the guard would refuse, so it cannot run the process out of memory on its way there.
    const stopAt = inspected.estimatedSeconds === null && job.guard.mode === 'reject' ? guardSeconds(process.memoryUsage.rss(), declaredShape, job.guard) : Infinity;
    let audio;
    try {
      audio = await decodeUpload(bytes, job.maxAudioSeconds, inspected, stopAt);
    } catch (err) {
      if (!(err instanceof DecodeStopped)) throw err;
      // Stopped where the estimate reaches the limit: at risk by construction.
      const verdict = judgeMemory(err.seconds, declaredShape, process.memoryUsage.rss(), job.guard);
      if (!verdict) throw err;
      const atLimit = { ...verdict, atRisk: true };
      post({ type: 'guard', requestId: job.requestId, mode: 'reject', basis: 'decoded', verdict: atLimit });
      return refuse(atLimit);
    }
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
    // Without a length from the container (a FLAC without its total), the guard judges the decoded one.
    const late = inspected.estimatedSeconds === null ? guardRefuses(audio.durationSeconds, { sampleRate: audio.sampleRate, channels: audio.channels }, 'decoded') : null;
    if (late) return refuse(late);
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
