import type { LogLine, PreviousRun } from './previous-run.js';

export type CrashCause = 'oom' | 'unknown';

export interface InterruptedAnalysis {
  request_id: string;
  file_name: string | null;
  file_size_mb: number | null;
  /** Known once the upload was decoded. */
  audio_seconds: number | null;
  /** The last stage it was seen starting or finishing. */
  last_stage: string;
  /**
   * Stages with a start record and no end record, in the order they started (a long recording
   * runs two at once). Decoding ends with `analysis.decoded`; every other stage with an
   * `analysis.stage` record of phase `end`.
   */
  stages_running: string[];
  started_at: string | null;
}

export interface PressureReading {
  percent: number;
  threshold: number | null;
  rss_mb: number | null;
  stage: string | null;
  request_id: string | null;
  time: string | null;
}

/** What the run before this one was doing when it stopped without a `service.stop`. */
export interface CrashReport {
  previous_instance_id: string;
  last_record_time: string | null;
  previous_started_at: string | null;
  analyses_in_flight: InterruptedAnalysis[];
  highest_memory_pressure: PressureReading | null;
  last_memory_pressure: PressureReading | null;
  suspected_cause: CrashCause;
  /** Why that cause: the evidence, in words. */
  cause_evidence: string;
  oom_kills_at_previous_start: number | null;
  oom_kills_now: number | null;
  /** The budget ran out before the previous run's service.start was found: older analyses may be missing. */
  partial: boolean;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function pressure(r: LogLine): PressureReading {
  return { percent: num(r.percent) ?? 0, threshold: num(r.threshold), rss_mb: num(r.rss_mb), stage: str(r.stage), request_id: str(r.request_id), time: str(r.time) };
}

/** The start or end of a stage that a record marks, or null. */
function stageBoundary(r: LogLine): { stage: string; phase: 'start' | 'end' } | null {
  if (r.event === 'analysis.decoded') return { stage: 'decode', phase: 'end' };
  if (r.event === 'analysis.stage' && typeof r.stage === 'string' && (r.phase === 'start' || r.phase === 'end')) return { stage: r.stage, phase: r.phase };
  return null;
}

/** Stages started and not yet ended, counted per stage (an end matches one start), in start order. */
class StageCount {
  private readonly open = new Map<string, number>();

  start(stage: string): void {
    const n = this.open.get(stage) ?? 0;
    this.open.delete(stage); // re-inserted last: the order is that of the latest start
    this.open.set(stage, n + 1);
  }

  end(stage: string): void {
    const n = this.open.get(stage) ?? 0;
    if (n <= 1) this.open.delete(stage);
    else this.open.set(stage, n - 1);
  }

  running(): string[] {
    return [...this.open.keys()];
  }
}

/**
 * The crash report for a previous run that did not stop cleanly, or null when it did (or when
 * there is no previous run). The cause is `oom` when the cgroup counted an OOM kill since that run
 * started, or when its last memory.pressure reading was at least 95 %; otherwise `unknown`.
 */
export function buildCrashReport(previous: PreviousRun | null, oomKillsNow: number | null): CrashReport | null {
  if (!previous || previous.stopped) return null;
  const analyses = new Map<string, InterruptedAnalysis & { done: boolean; open: StageCount }>();
  let highest: PressureReading | null = null;
  let last: PressureReading | null = null;
  for (const r of previous.records) {
    const requestId = str(r.request_id);
    if (r.event === 'memory.pressure') {
      const reading = pressure(r);
      last = reading;
      if (!highest || reading.percent >= highest.percent) highest = reading;
    }
    if (!requestId) continue;
    if (r.event === 'analysis.start') {
      analyses.set(requestId, {
        request_id: requestId,
        file_name: str(r.file_name),
        file_size_mb: num(r.file_size_mb),
        audio_seconds: null,
        last_stage: 'queued',
        stages_running: [],
        started_at: str(r.time),
        done: false,
        open: new StageCount(),
      });
      continue;
    }
    const entry = analyses.get(requestId);
    if (!entry) continue;
    const boundary = stageBoundary(r);
    if (boundary) {
      entry.last_stage = boundary.stage;
      if (boundary.phase === 'start') entry.open.start(boundary.stage);
      else entry.open.end(boundary.stage);
    }
    if (r.event === 'analysis.decoded') entry.audio_seconds = num(r.audio_seconds);
    if (r.event === 'analysis.end' || r.event === 'analysis.failed' || (r.event === 'request.rejected' && entry.last_stage === 'queued')) entry.done = true;
  }
  const oomAtStart = num(previous.startRecord?.oom_kill_count);
  let cause: CrashCause = 'unknown';
  let evidence = 'no OOM kill was counted and memory was not near the limit: the process died for another reason (a kill, a node failure)';
  if (oomKillsNow !== null && oomAtStart !== null && oomKillsNow > oomAtStart) {
    cause = 'oom';
    evidence = `the cgroup counted ${oomKillsNow - oomAtStart} OOM kill(s) since the previous run started (memory.events oom_kill ${oomAtStart} → ${oomKillsNow})`;
  } else if (last && last.percent >= 95) {
    cause = 'oom';
    evidence = `its last memory.pressure reading was ${last.percent} % of the limit${last.stage ? `, during ${last.stage}` : ''}`;
  }
  return {
    previous_instance_id: previous.instanceId,
    last_record_time: str(previous.records.at(-1)?.time),
    previous_started_at: str(previous.startRecord?.time),
    analyses_in_flight: [...analyses.values()].filter((a) => !a.done).map(({ done: _done, open, ...a }) => ({ ...a, stages_running: open.running() })),
    highest_memory_pressure: highest,
    last_memory_pressure: last,
    suspected_cause: cause,
    cause_evidence: evidence,
    oom_kills_at_previous_start: oomAtStart,
    oom_kills_now: oomKillsNow,
    partial: previous.partial,
  };
}
