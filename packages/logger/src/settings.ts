import path from 'node:path';

/**
 * The log contract: what the logger writes, and so what the Fluent Bit sidecar must read.
 * The config generator (packages/fluent-config) reads these same values, so the two cannot drift.
 */

/** Level labels, lowest first, as they appear in the `level` field. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type RotationFrequency = 'hourly' | 'daily';

export interface RotationSettings {
  /** Start a new file once the current one reaches this many bytes. */
  readonly maxFileBytes: number;
  /** Also start a new file every hour or day (the file name then carries the date). */
  readonly frequency: RotationFrequency | null;
  /** How many files to keep in all, including the one being written. */
  readonly keepFiles: number;
}

export interface TimeFormat {
  /** Always ISO-8601 in UTC with exactly three fraction digits, e.g. 2026-11-21T18:00:00.123Z. */
  readonly kind: 'iso8601-utc-ms';
  /** The same format in strftime notation (Fluent Bit's Time_Format; %L = fraction, %z accepts Z). */
  readonly strftime: string;
  /** A regular expression every written time value matches. */
  readonly pattern: RegExp;
}

export interface FileNaming {
  /**
   * Base name: files are `<base>.<owner>.<n>.log`, or `<base>.<owner>.<date>.<n>.log` when
   * rotating by time. The owner (`<host>_<slot>`, see log-owner.ts) makes each writer's files its
   * own when several instances share the directory.
   */
  readonly baseName: string;
  readonly extension: 'log';
  /** Shell glob matching every real log file (of every owner) and nothing else the logger writes (no symlink, no pid file). */
  readonly glob: string;
  /**
   * Exact file-name pattern with named groups: `owner` (absent in files of versions before
   * owners, `<base>.<n>.log`), `date` (absent unless rotating by time), `sequence`.
   */
  readonly pattern: RegExp;
  /** Extension of the pid file that holds an owner's slot: `<base>.<owner>.pid`. */
  readonly pidExtension: 'pid';
  /** date-fns format of the date part when rotating by time (hours as HH, never hh). */
  readonly dateFormat: Record<RotationFrequency, string>;
}

export interface LogSettings {
  /** Directory the log files are written to; the shared volume in a pod. */
  readonly dir: string;
  readonly file: FileNaming;
  readonly timeKey: 'time';
  readonly time: TimeFormat;
  readonly levelKey: 'level';
  readonly messageKey: 'message';
  readonly errorKey: 'error';
  /** No line (including its newline) is ever longer than this many bytes. */
  readonly maxLineBytes: number;
  readonly rotation: RotationSettings;
  /** Lowest level written. */
  readonly level: LogLevel;
  /** The `service` field of every record. */
  readonly service: string;
}

/** Where the logs go inside the containers (the shared emptyDir's mount path). */
export const CONTAINER_LOG_DIR = '/var/log/guitar-backend';

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

const BASE_NAME = 'app';
/** The owner part of a file name: a host name of [a-z0-9-], `_`, a slot number (see log-owner.ts). */
export const OWNER_PATTERN_SOURCE = '[a-z0-9-]+_\\d+';

export const FILE_NAMING: FileNaming = {
  baseName: BASE_NAME,
  extension: 'log',
  glob: `${BASE_NAME}.*.log`,
  pattern: new RegExp(`^${BASE_NAME}\\.(?:(?<owner>${OWNER_PATTERN_SOURCE})\\.)?(?:(?<date>\\d{4}-\\d{2}-\\d{2}(?:-\\d{2})?)\\.)?(?<sequence>\\d+)\\.log$`),
  pidExtension: 'pid',
  dateFormat: { daily: 'yyyy-MM-dd', hourly: 'yyyy-MM-dd-HH' },
};

export const TIME_FORMAT: TimeFormat = {
  kind: 'iso8601-utc-ms',
  strftime: '%Y-%m-%dT%H:%M:%S.%L%z',
  pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
};

export const DEFAULT_ROTATION: RotationSettings = {
  maxFileBytes: 10 * 1024 * 1024,
  frequency: null,
  keepFiles: 5,
};

/** The contract with its defaults; `dir` is the container directory. */
export const defaultLogSettings: LogSettings = {
  dir: CONTAINER_LOG_DIR,
  file: FILE_NAMING,
  timeKey: 'time',
  time: TIME_FORMAT,
  levelKey: 'level',
  messageKey: 'message',
  errorKey: 'error',
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  rotation: DEFAULT_ROTATION,
  level: 'info',
  service: 'guitar-backend',
};

/** Thrown for a setting that cannot be used; the message names the variable and what it accepts. */
export class LogSettingsError extends Error {
  override readonly name = 'LogSettingsError';
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new LogSettingsError(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    throw new LogSettingsError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return value as T;
}

/**
 * The settings in force for this process: the contract, with the directory, level and rotation
 * taken from the environment. LOG_DIR (default: `logs` under the working directory, or the
 * container directory when running in a container image that sets it), LOG_LEVEL,
 * LOG_MAX_FILE_MB, LOG_KEEP_FILES, LOG_ROTATE (none|hourly|daily), LOG_MAX_LINE_BYTES.
 */
export function resolveLogSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LogSettings {
  const dir = env.LOG_DIR && env.LOG_DIR.trim() !== '' ? path.resolve(cwd, env.LOG_DIR) : path.resolve(cwd, 'logs');
  const frequency = oneOf(env, 'LOG_ROTATE', ['none', 'hourly', 'daily'] as const, 'none');
  const maxLineBytes = positiveInteger(env, 'LOG_MAX_LINE_BYTES', DEFAULT_MAX_LINE_BYTES, 1024);
  return {
    ...defaultLogSettings,
    dir,
    level: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, defaultLogSettings.level),
    service: env.SERVICE_NAME && env.SERVICE_NAME.trim() !== '' ? env.SERVICE_NAME.trim() : defaultLogSettings.service,
    maxLineBytes,
    rotation: {
      maxFileBytes: positiveInteger(env, 'LOG_MAX_FILE_MB', DEFAULT_ROTATION.maxFileBytes / 1024 / 1024) * 1024 * 1024,
      keepFiles: positiveInteger(env, 'LOG_KEEP_FILES', DEFAULT_ROTATION.keepFiles, 2),
      frequency: frequency === 'none' ? null : frequency,
    },
  };
}
