import type { CrashReport } from './forensics/crash-report.js';

/** What the service knows about itself, shared by the routes and main. */
export interface ServiceState {
  readonly instanceId: string;
  readonly version: string;
  readonly startedAt: number;
  shuttingDown: boolean;
  /** The previous run's crash, found at start (shown by /api/health for a while), or null. */
  previousCrash: CrashReport | null;
}
