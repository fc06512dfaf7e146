export { createService, type Service, type ServiceOptions } from './service.js';
export { buildServer, type ServerDeps } from './server.js';
export { loadConfig, ConfigError, type AppConfig } from './config.js';
export { ApiError, ERROR_STATUS, type ErrorCode } from './errors.js';
export type { AnalysisResult, Note, Chord } from './analysis/types.js';
export { songWav, writeSongWav } from './samples/render.js';
export { DEFAULT_SONG, midiName, type SongSpec, type SongTruth } from './samples/synth.js';
