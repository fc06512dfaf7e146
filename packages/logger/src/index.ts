export {
  CONTAINER_LOG_DIR,
  FILE_NAMING,
  TIME_FORMAT,
  DEFAULT_ROTATION,
  DEFAULT_MAX_LINE_BYTES,
  LOG_LEVELS,
  LogSettingsError,
  defaultLogSettings,
  resolveLogSettings,
  type FileNaming,
  type LogLevel,
  type LogSettings,
  type RotationFrequency,
  type RotationSettings,
  type TimeFormat,
} from './settings.js';
export { logRecordJsonSchema, type LogRecord, type SerializedError } from './record.js';
export { createLogging, type Logger, type LoggerOptions, type Logging } from './create-logger.js';
export { DEFAULT_SENSITIVE_KEYS, REDACTED, createRedactor, passesLuhn, type RedactionOptions, type Redactor } from './redact.js';
export { DEFAULT_SANITIZE_LIMITS, type SanitizeLimits } from './sanitize.js';
export { listLogFiles, parseLogFileName, type LogFile } from './log-files.js';
export type { OwnerOptions } from './log-owner.js';
export type { WriteStats } from './write-stats.js';
export type { StdoutMode } from './stdout-mirror.js';
export {
  Retention,
  DEFAULT_DEAD_OWNER_GRACE_MS,
  SIDECAR_TAIL_DB,
  SIDECAR_STORAGE_DIR,
  LOG_FILES_SHARE_OF_VOLUME,
  resolveRetentionSettings,
  type DroppedUnread,
  type RetentionSettings,
  type SweepResult,
} from './retention.js';
export { readSidecarPositions, type ReadPosition } from './sidecar-positions.js';
