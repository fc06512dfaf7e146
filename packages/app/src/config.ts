import os from 'node:os';
import { DEFAULT_GUARD_BASE_MB, DEFAULT_GUARD_MB_PER_MINUTE, DEFAULT_GUARD_SIGNAL_COPIES, GUARD_MODES, type GuardMode } from './memory/guard.js';

/** Everything the service reads from its environment, validated at start. */
export interface AppConfig {
  port: number;
  host: string;
  /** Worker threads running analyses (ANALYSIS_WORKERS, default one per core). */
  workers: number;
  /** Uploads waiting for a worker beyond which requests get 503 (ANALYSIS_QUEUE_MAX). */
  queueMax: number;
  /** MAX_UPLOAD_MB (default 100) → 413 beyond. */
  maxUploadBytes: number;
  /** MAX_AUDIO_MINUTES (default 30) → 422 beyond. */
  maxAudioSeconds: number;
  /** SHUTDOWN_GRACE_SECONDS: how long in-flight analyses may finish after SIGTERM (default 25). */
  shutdownGraceMs: number;
  /** MEMORY_PRESSURE_THRESHOLDS: percentages of the memory limit that log memory.pressure (default 70,85,95). */
  memoryThresholds: number[];
  /** MEMORY_LIMIT_MB: the limit to assume when no cgroup limit is visible (local runs, tests). */
  memoryLimitOverrideBytes: number | null;
  /** A worker whose WebAssembly heap grew beyond this is retired after its job (WORKER_RETIRE_HEAP_MB, default 96). */
  workerRetireHeapBytes: number;
  /** Seconds a 503 asks the client to wait (Retry-After). */
  retryAfterSeconds: number;
  /** MEMORY_GUARD: off | warn (default) | reject. */
  memoryGuard: GuardMode;
  /** MEMORY_GUARD_BASE_MB: what any analysis adds to memory, however short (default 80; see memory/guard.ts). */
  memoryGuardBaseMb: number;
  /** MEMORY_GUARD_MB_PER_MINUTE: the analysis' own memory per audio minute the guard assumes (default 30; see memory/guard.ts). */
  memoryGuardMbPerMinute: number;
  /** MEMORY_GUARD_SIGNAL_COPIES: copies of the decoded signal, at the file's rate and channels, the guard assumes held at once (default 1.5). */
  memoryGuardSignalCopies: number;
  /** ANALYSIS_SPLIT: recordings of a minute or more use a second thread for rhythm, key and chords (default on). */
  analysisSplit: boolean;
  /** REQUEST_TIMEOUT_SECONDS: the whole request (headers and upload) must arrive within this (default 300) → 408. */
  requestTimeoutMs: number;
  /** HEADERS_TIMEOUT_SECONDS: the request headers must arrive within this (default 20) → 408. */
  headersTimeoutMs: number;
  /** UPLOAD_IDLE_SECONDS: an upload from which no byte arrives for this long is ended (default 30) → 408. */
  uploadIdleMs: number;
  /** PREVIOUS_CRASH_VISIBLE_MINUTES: how long /api/health shows a detected crash of the previous run (default 15). */
  previousCrashVisibleMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A number from the environment within [min, max] (`whole`: an integer), or the fallback when unset. */
function numberVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, whole: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!(whole ? Number.isInteger(value) : Number.isFinite(value)) || value < min || value > max) {
    throw new ConfigError(`${name} must be a ${whole ? 'whole number' : 'number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const integer = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => numberVar(env, name, fallback, min, max, true);
const decimal = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => numberVar(env, name, fallback, min, max, false);

function thresholds(env: NodeJS.ProcessEnv): number[] {
  const raw = env.MEMORY_PRESSURE_THRESHOLDS;
  if (raw === undefined || raw.trim() === '') return [70, 85, 95];
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v <= 0 || v > 100)) {
    throw new ConfigError(`MEMORY_PRESSURE_THRESHOLDS must be percentages from 1 to 100 separated by commas, got ${JSON.stringify(raw)}`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be on or off, got ${JSON.stringify(env[name])}`);
}

function guardMode(env: NodeJS.ProcessEnv): GuardMode {
  const raw = env.MEMORY_GUARD?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'warn';
  if (!(GUARD_MODES as readonly string[]).includes(raw)) {
    throw new ConfigError(`MEMORY_GUARD must be one of ${GUARD_MODES.join(', ')}, got ${JSON.stringify(env.MEMORY_GUARD)}`);
  }
  return raw as GuardMode;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const limitMb = integer(env, 'MEMORY_LIMIT_MB', 0, 0, 1024 * 1024);
  const requestTimeoutSeconds = integer(env, 'REQUEST_TIMEOUT_SECONDS', 300, 1, 24 * 3600);
  // Node requires the headers' timeout not to exceed the whole request's.
  const headersTimeoutSeconds = integer(env, 'HEADERS_TIMEOUT_SECONDS', Math.min(20, requestTimeoutSeconds), 1, requestTimeoutSeconds);
  return {
    port: integer(env, 'PORT', 8000, 0, 65535),
    host: env.HOST && env.HOST.trim() !== '' ? env.HOST.trim() : '0.0.0.0',
    workers: integer(env, 'ANALYSIS_WORKERS', Math.max(1, os.availableParallelism()), 1, 64),
    queueMax: integer(env, 'ANALYSIS_QUEUE_MAX', 4, 0, 1000),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_MB', 100, 1, 4096) * 1024 * 1024,
    maxAudioSeconds: integer(env, 'MAX_AUDIO_MINUTES', 30, 1, 24 * 60) * 60,
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_SECONDS', 25, 0, 3600) * 1000,
    memoryThresholds: thresholds(env),
    memoryLimitOverrideBytes: limitMb > 0 ? limitMb * 1024 * 1024 : null,
    workerRetireHeapBytes: integer(env, 'WORKER_RETIRE_HEAP_MB', 96, 1, 64 * 1024) * 1024 * 1024,
    retryAfterSeconds: integer(env, 'RETRY_AFTER_SECONDS', 10, 1, 3600),
    memoryGuard: guardMode(env),
    analysisSplit: onOff(env, 'ANALYSIS_SPLIT', true),
    memoryGuardBaseMb: integer(env, 'MEMORY_GUARD_BASE_MB', DEFAULT_GUARD_BASE_MB, 0, 100_000),
    memoryGuardMbPerMinute: integer(env, 'MEMORY_GUARD_MB_PER_MINUTE', DEFAULT_GUARD_MB_PER_MINUTE, 1, 100_000),
    memoryGuardSignalCopies: decimal(env, 'MEMORY_GUARD_SIGNAL_COPIES', DEFAULT_GUARD_SIGNAL_COPIES, 0, 100),
    previousCrashVisibleMs: integer(env, 'PREVIOUS_CRASH_VISIBLE_MINUTES', 15, 0, 24 * 60) * 60_000,
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    headersTimeoutMs: headersTimeoutSeconds * 1000,
    uploadIdleMs: integer(env, 'UPLOAD_IDLE_SECONDS', 30, 1, 3600) * 1000,
  };
}
