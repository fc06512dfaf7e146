import os from 'node:os';
import path from 'node:path';
import { format } from 'node:util';
import { pino, type Logger, type LogFn } from 'pino';
import { LogDestination, type LogDestinationOptions } from './destination.js';
import { httpSerializers } from './http-serializers.js';
import { createRedactor, type RedactionOptions } from './redact.js';
import { createSanitizer, DEFAULT_SANITIZE_LIMITS, type SanitizeLimits } from './sanitize.js';
import { resolveRetentionSettings, type DroppedUnread, type RetentionSettings } from './retention.js';
import { resolveLogSettings, type LogSettings } from './settings.js';
import { createStdoutMirror, resolveStdoutMode, type StdoutMode } from './stdout-mirror.js';
import type { WriteStats } from './write-stats.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** The contract in force (default: resolveLogSettings() from the environment). */
  settings?: LogSettings;
  /** Fields on every record besides service, pid and hostname (e.g. instance_id). */
  base?: Record<string, unknown>;
  redaction?: RedactionOptions;
  limits?: Partial<SanitizeLimits>;
  /** Mirror every line to stdout (default: env LOG_STDOUT, else `auto` = pretty on a TTY, off otherwise). */
  stdout?: StdoutMode;
  /** Tuning of the file destination (bounds, check and report intervals, report sink). */
  destination?: Omit<LogDestinationOptions, 'settings' | 'mirror' | 'retention' | 'onDroppedUnread'>;
  /** When old files go (default: resolveRetentionSettings() from the environment: LOG_WAIT_FOR_SIDECAR, LOG_VOLUME_MB). */
  retention?: RetentionSettings;
}

export interface Logging {
  /** The root logger; `logger.child({ module })` per module, and Fastify's `loggerInstance`. */
  readonly logger: Logger;
  readonly settings: LogSettings;
  /** Write counters (failures, drops, truncations, rotations) for metrics. */
  stats(): WriteStats;
  /** The file being written now, or null while none could be opened. */
  currentFile(): string | null;
  /**
   * The owner part of this process's file names (`<host>_<slot>`; `listLogFiles(settings, { owner })`
   * gives its files), or null while the directory could not be used.
   */
  owner(): string | null;
  /** Closes the file; later log calls are dropped and counted. */
  close(): Promise<void>;
}

type LogArgs = Parameters<LogFn>;

/**
 * Normalizes a log call to (mergeObject?, message): the message is interpolated here, then
 * redacted and bounded, and is never missing (an Error's message or the event name stands in).
 */
function normalizeCall(args: unknown[], scrub: (text: string) => string): LogArgs {
  // The common shapes first: (object, message) and (message).
  if (args.length === 2 && typeof args[1] === 'string' && args[0] !== null && typeof args[0] === 'object' && !(args[0] instanceof Error)) {
    return [args[0], scrub(args[1])] as LogArgs;
  }
  if (args.length === 1 && typeof args[0] === 'string') return [scrub(args[0])] as LogArgs;
  let obj: unknown;
  let msg: unknown;
  let rest: unknown[];
  if (typeof args[0] === 'string') {
    msg = args[0];
    rest = args.slice(1);
  } else {
    obj = args[0];
    msg = args[1];
    rest = args.slice(2);
  }
  if (obj !== undefined && obj !== null && typeof obj !== 'object') {
    msg = msg === undefined ? obj : `${String(obj)} ${String(msg)}`;
    obj = undefined;
  }
  if (obj instanceof Error) obj = { error: obj };
  const merge = obj as Record<string, unknown> | null | undefined;
  if (msg === undefined && merge) {
    const error = merge.error;
    if (error instanceof Error) msg = error.message;
    else if (typeof merge.message === 'string') {
      msg = merge.message;
      const { message: _moved, ...others } = merge;
      obj = others;
    } else if (typeof merge.event === 'string') msg = merge.event;
  }
  let text = typeof msg === 'string' ? msg : msg === undefined ? '' : String(msg);
  if (rest.length > 0) text = format(text, ...rest);
  text = scrub(text);
  return (obj === undefined || obj === null ? [text] : [obj, text]) as LogArgs;
}

/** `,"time":"2026-11-21T18:00:00.123Z"`, formatted once per millisecond. */
function isoTimestamp(key: string): () => string {
  let lastMs = -1;
  let last = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      last = `,"${key}":"${new Date(now).toISOString()}"`;
    }
    return last;
  };
}

/** Opens the log file and builds the root logger. Never rejects for a file problem: see LogDestination. */
export async function createLogging(options: LoggerOptions = {}): Promise<Logging> {
  const settings = options.settings ?? resolveLogSettings();
  const sanitizer = createSanitizer(
    createRedactor(options.redaction),
    { ...DEFAULT_SANITIZE_LIMITS, ...options.limits },
    httpSerializers,
  );
  const mirror = createStdoutMirror(options.stdout ?? resolveStdoutMode(process.env), settings);
  let reportDrop: (drop: DroppedUnread) => void = () => {};
  const destination = await LogDestination.open({
    ...options.destination,
    settings,
    retention: options.retention ?? resolveRetentionSettings(settings),
    onDroppedUnread: (drop) => reportDrop(drop),
    ...(mirror ? { mirror } : {}),
  });
  let closed = false;

  const logger = pino(
    {
      level: settings.level,
      messageKey: settings.messageKey,
      errorKey: settings.errorKey,
      base: { service: settings.service, pid: process.pid, hostname: os.hostname(), ...options.base },
      timestamp: isoTimestamp(settings.timeKey),
      formatters: {
        level: (label) => ({ [settings.levelKey]: label }),
        bindings: (bindings) => sanitizer.record(bindings),
        log: (obj) => sanitizer.record(obj),
      },
      // Errors, requests and replies are serialized by the sanitizer, before redaction.
      serializers: { err: (value: unknown) => value },
      hooks: {
        logMethod(args, method) {
          let call: LogArgs;
          try {
            call = normalizeCall(args, sanitizer.message);
          } catch {
            call = ['[unloggable call]'] as unknown as LogArgs;
          }
          try {
            method.apply(this, call);
          } catch {
            // A log call never throws; the destination counts what it could not write.
          }
        },
      },
    },
    {
      write(line: string) {
        if (closed) return;
        destination.write(line);
      },
    },
  );

  // pino applies formatters.bindings to the base fields only; child bindings go through here.
  // Serializers given to child() (Fastify passes its req/res ones) are left out: pino would run
  // them after the sanitizer, on its output, and past redaction. pino also appends a rebound key
  // (a second `module`) instead of replacing it; such a child is rebuilt from the root with the
  // merged bindings, so every key appears once, with the newest value.
  const pinoChild = logger.child;
  const root = logger;
  const rootKeys = new Set(Object.keys(root.bindings()));
  logger.child = function sanitizedChild(this: Logger, bindings, childOptions) {
    const { serializers: _ignored, ...options } = childOptions ?? {};
    const clean = sanitizer.record(bindings ?? {});
    if (this !== root) {
      const existing = this.bindings();
      if (Object.keys(clean).some((k) => k in existing)) {
        const merged: Record<string, unknown> = {};
        for (const [k, v] of Object.entries({ ...existing, ...clean })) if (!rootKeys.has(k)) merged[k] = v;
        return pinoChild.call(root, merged, { level: this.level, ...options });
      }
    }
    return pinoChild.call(this, clean, options);
  } as Logger['child'];

  const retentionLog = logger.child({ module: 'logger' });
  reportDrop = (drop) =>
    retentionLog.error(
      { event: 'log.dropped_unread', file_name: path.basename(drop.file), bytes_unread: drop.bytesUnread, budget_bytes: drop.budgetBytes },
      'log file deleted by the volume budget before the sidecar had read it',
    );

  return {
    logger,
    settings,
    stats: () => destination.stats(),
    currentFile: () => destination.file,
    owner: () => destination.ownerName,
    async close() {
      await destination.sweep(); // its reports (log.dropped_unread) still logged
      closed = true;
      await destination.close();
    },
  };
}
