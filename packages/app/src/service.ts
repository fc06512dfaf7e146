import crypto from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { createLogging, resolveLogSettings, type LoggerOptions, type Logging, type LogSettings } from '@guitar-backend/logger';
import { AnalysisPool } from './analysis/pool.js';
import { ProgressRouter } from './analysis/progress-router.js';
import { loadConfig, type AppConfig } from './config.js';
import { buildCrashReport } from './forensics/crash-report.js';
import { readPreviousRun } from './forensics/previous-run.js';
import { readMemoryLimit, readOomKillCount } from './memory/cgroup.js';
import { exposedGc, IdleCollector } from './memory/idle-collect.js';
import { MemoryWatch } from './memory/watch.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';
import type { ServiceState } from './state.js';

export interface Service {
  readonly app: FastifyInstance;
  readonly logging: Logging;
  readonly pool: AnalysisPool;
  /** The main thread's collection after work (see memory/idle-collect.ts). */
  readonly idle: IdleCollector;
  readonly state: ServiceState;
  readonly config: AppConfig;
  /** Stops accepting, lets analyses finish within the grace period, then stops them, flushes the log. */
  shutdown(reason: string): Promise<void>;
}

export interface ServiceOptions {
  config?: AppConfig;
  logSettings?: LogSettings;
  logOptions?: Omit<LoggerOptions, 'settings' | 'base'>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** How long the analysis route must be quiet before the main thread's garbage is collected. */
const IDLE_COLLECT_DELAY_MS = 5000;

/** After the grace period: how long the stopped analyses' 503s have to go out before every connection is closed. */
const CLOSE_CONNECTIONS_AFTER_ABORT_MS = 1000;

const mb = (bytes: number | null): number | null => (bytes === null ? null : Math.round(bytes / 1024 / 1024));

/** Builds the whole service (logging, pool, metrics, memory watch, HTTP) without listening. */
export async function createService(options: ServiceOptions = {}): Promise<Service> {
  const config = options.config ?? loadConfig();
  const state: ServiceState = { instanceId: crypto.randomUUID(), version: packageVersion(), startedAt: Date.now(), shuttingDown: false, previousCrash: null };
  const logSettings = options.logSettings ?? resolveLogSettings();
  const logging = await createLogging({ ...options.logOptions, settings: logSettings, base: { instance_id: state.instanceId } });
  const log = logging.logger.child({ module: 'service' });
  const limit = readMemoryLimit(config.memoryLimitOverrideBytes);
  const progress = new ProgressRouter();
  const idle = new IdleCollector({
    collect: exposedGc(),
    delayMs: IDLE_COLLECT_DELAY_MS,
    onCollected: (c) =>
      logging.logger
        .child({ module: 'memory' })
        .info({ event: 'memory.idle_collect', duration_ms: Math.round(c.ms), rss_before_mb: mb(c.rssBeforeBytes), rss_after_mb: mb(c.rssAfterBytes) }, 'collected the garbage of the last requests'),
  });
  const pool = new AnalysisPool(
    {
      workers: config.workers,
      queueMax: config.queueMax,
      maxAudioSeconds: config.maxAudioSeconds,
      retireHeapBytes: config.workerRetireHeapBytes,
      split: config.analysisSplit,
      guard: { mode: config.memoryGuard, baseMb: config.memoryGuardBaseMb, mbPerAudioMinute: config.memoryGuardMbPerMinute, signalCopies: config.memoryGuardSignalCopies, limitBytes: limit.bytes },
      beginWork: () => idle.begin(),
    },
    (event) => progress.dispatch(event),
  );
  let metrics: Metrics | null = null;
  const memory = new MemoryWatch(limit.bytes, config.memoryThresholds, (event) => {
    metrics?.memoryPressure.inc({ threshold: String(event.threshold) });
    logging.logger.child({ module: 'memory', request_id: event.requestId }).warn(
      {
        event: 'memory.pressure',
        stage: event.stage,
        file_name: event.fileName,
        rss_mb: mb(event.rssBytes),
        limit_mb: mb(event.limitBytes),
        percent: Number(event.percent.toFixed(1)),
        threshold: event.threshold,
        wasm_heap_mb: mb(event.wasmHeapBytes),
      },
      `memory at ${event.percent.toFixed(0)} % of the limit during ${event.stage}`,
    );
  });
  metrics = new Metrics({
    running: () => pool.running,
    queued: () => pool.queued,
    logStats: () => logging.stats(),
    memoryLimitBytes: () => limit.bytes,
    memoryUsageRatio: () => memory.usageRatio(),
  });
  const app = await buildServer({ config, logging, pool, progress, memory, idle, metrics, state });
  const oomKills = readOomKillCount();
  log.info(
    {
      event: 'service.start',
      version: state.version,
      node: process.version,
      memory_limit_mb: mb(limit.bytes),
      memory_limit_source: limit.source,
      oom_kill_count: oomKills,
      workers: config.workers,
      queue_max: config.queueMax,
      memory_guard: config.memoryGuard,
      idle_collect: idle.enabled,
      log_file: logging.currentFile(),
      log_owner: logging.owner(),
    },
    'service starting',
  );
  // Before serving: did the run before this one stop cleanly? Its records are on the shared volume.
  // Only this writer's own files: another instance sharing the directory is not the previous run.
  const crash = buildCrashReport(readPreviousRun(logSettings, { currentInstanceId: state.instanceId, owner: logging.owner() }), oomKills);
  if (crash) {
    state.previousCrash = crash;
    metrics.previousCrash.inc({ cause: crash.suspected_cause });
    const interrupted = crash.analyses_in_flight.map((a) => `${a.file_name ?? a.request_id} (${a.last_stage})`).join(', ');
    logging.logger.child({ module: 'forensics' }).error(
      { event: 'crash.detected', ...crash },
      `the previous run ${crash.previous_instance_id} stopped without service.stop (suspected: ${crash.suspected_cause})${interrupted ? `; it was analysing ${interrupted}` : ''}`,
    );
  }

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      state.shuttingDown = true;
      log.info({ event: 'service.stopping', reason, analyses_in_flight: pool.running, queue_length: pool.queued, grace_ms: config.shutdownGraceMs }, 'stopping');
      let closeRest: NodeJS.Timeout | undefined;
      const grace = setTimeout(() => {
        log.warn({ event: 'service.grace_expired', analyses_in_flight: pool.running }, 'grace period over: stopping the analyses still running');
        pool.abortAll();
        // Their 503s go out first; then whatever connection is left (an upload still arriving, a
        // client that never reads its answer) is closed, so the listener can close and stop is written.
        closeRest = setTimeout(() => app.server.closeAllConnections(), CLOSE_CONNECTIONS_AFTER_ABORT_MS);
      }, config.shutdownGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(grace);
        clearTimeout(closeRest);
        await pool.close();
        idle.cancel();
      }
      log.info({ event: 'service.stop', reason, uptime_seconds: Math.round((Date.now() - state.startedAt) / 1000) }, 'stopped cleanly');
      await logging.close();
    })();
    return stopping;
  };
  return { app, logging, pool, idle, state, config, shutdown };
}
