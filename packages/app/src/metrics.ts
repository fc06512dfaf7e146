import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WriteStats } from '@guitar-backend/logger';

export interface MetricSources {
  running(): number;
  queued(): number;
  logStats(): WriteStats;
  memoryLimitBytes(): number | null;
  memoryUsageRatio(): number | null;
}

/** Every metric the service exports on /metrics, in one registry. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly analysisDuration: Histogram<'outcome'>;
  readonly audioSeconds: Counter;
  readonly analysisPeakRss: Histogram;
  readonly rejected: Counter<'reason'>;
  readonly memoryPressure: Counter<'threshold'>;
  readonly workerRetirements: Counter;
  readonly workerFailures: Counter<'reason'>;
  readonly memoryGuard: Counter<'mode'>;
  readonly previousCrash: Counter<'cause'>;

  constructor(sources: MetricSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [r],
    });
    this.analysisDuration = new Histogram({
      name: 'guitar_backend_analysis_duration_seconds',
      help: 'Time from upload accepted to answer, by outcome',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers: [r],
    });
    this.audioSeconds = new Counter({ name: 'guitar_backend_audio_seconds_analyzed_total', help: 'Seconds of audio analysed', registers: [r] });
    this.analysisPeakRss = new Histogram({
      name: 'guitar_backend_analysis_peak_rss_bytes',
      help: 'Highest process RSS sampled while an analysis ran',
      buckets: [128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096].map((mb) => mb * 1024 * 1024),
      registers: [r],
    });
    this.rejected = new Counter({ name: 'guitar_backend_rejected_requests_total', help: 'Requests refused, by reason (the error code)', labelNames: ['reason'], registers: [r] });
    this.memoryPressure = new Counter({ name: 'guitar_backend_memory_pressure_events_total', help: 'memory.pressure records, by threshold crossed', labelNames: ['threshold'], registers: [r] });
    this.workerRetirements = new Counter({ name: 'guitar_backend_worker_retirements_total', help: 'Workers retired after a job to give their WebAssembly memory back', registers: [r] });
    this.workerFailures = new Counter({ name: 'guitar_backend_worker_failures_total', help: 'Analyses lost to a dying worker or an essentia abort', labelNames: ['reason'], registers: [r] });
    this.memoryGuard = new Counter({ name: 'guitar_backend_memory_guard_events_total', help: 'Analyses whose estimated peak passed 95 % of the memory limit, by guard mode', labelNames: ['mode'], registers: [r] });
    this.previousCrash = new Counter({ name: 'guitar_backend_previous_crash_total', help: 'The run before this one stopped without service.stop, by suspected cause', labelNames: ['cause'], registers: [r] });
    new Gauge({ name: 'guitar_backend_analyses_in_flight', help: 'Analyses running now', registers: [r], collect() { this.set(sources.running()); } });
    new Gauge({ name: 'guitar_backend_analyses_queued', help: 'Uploads waiting for a worker', registers: [r], collect() { this.set(sources.queued()); } });
    new Gauge({
      name: 'guitar_backend_memory_limit_bytes',
      help: 'The container memory limit seen (cgroup, or MEMORY_LIMIT_MB); 0 when none',
      registers: [r],
      collect() { this.set(sources.memoryLimitBytes() ?? 0); },
    });
    new Gauge({
      name: 'guitar_backend_memory_usage_ratio',
      help: 'Process RSS over the memory limit (absent without a limit)',
      registers: [r],
      collect() {
        const ratio = sources.memoryUsageRatio();
        if (ratio === null) this.reset();
        else this.set(ratio);
      },
    });
    const logCounter = (name: string, help: string, pick: (s: WriteStats) => number): void => {
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          this.reset();
          this.inc(pick(sources.logStats()));
        },
      });
    };
    // Compared with the sidecar's tail input by the FluentBitNotReading alert.
    logCounter('guitar_backend_log_lines_written_total', 'Log lines handed to the log file (written, or held in its bounded backlog)', (s) => s.linesWritten);
    logCounter('guitar_backend_log_write_failures_total', 'Failed log write or open attempts (ENOSPC, EACCES, removed directory, …)', (s) => s.writeFailures);
    logCounter('guitar_backend_log_lines_dropped_total', 'Log lines given up because the memory for unwritten lines was full', (s) => s.linesDropped);
    logCounter('guitar_backend_log_bytes_dropped_unread_total', 'Log bytes deleted by the volume budget before the sidecar had read them', (s) => s.bytesDroppedUnread);
    logCounter('guitar_backend_log_lines_truncated_total', 'Log lines cut to the maximum line size', (s) => s.linesTruncated);
    new Gauge({ name: 'guitar_backend_log_pending_bytes', help: 'Log bytes waiting to be written', registers: [r], collect() { this.set(sources.logStats().pendingBytes); } });
  }
}
