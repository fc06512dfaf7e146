/** What the service knows about itself, shared by the routes and main. */
export interface ServiceState {
  readonly instanceId: string;
  readonly version: string;
  readonly startedAt: number;
  shuttingDown: boolean;
}
