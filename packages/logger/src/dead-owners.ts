import { performance } from 'node:perf_hooks';
import { inspectSlot, type ProcessIdentity, type SlotState } from './log-owner.js';

/**
 * Which other writers of the log directory are dead: their slot is held by no live process, by the
 * rules log-owner.ts claims slots with, judged without waiting (retention asks once a second):
 * - in this process's pid namespace on this host, the pid and its start time answer at once;
 * - otherwise only the heartbeat can: a pid file seen unchanged (content and time) for `staleMs`
 *   across calls, by this process's own clock, is a dead holder's, since a live one touches it every
 *   second. So is a slot whose pid file stays absent that long (its writer closed cleanly, or died
 *   and its pid file was taken away): a live holder recreates a removed pid file at its next beat.
 * A first sight is never enough: the verdict needs two looks at least `staleMs` apart.
 */
export class DeadOwners {
  /** What each other owner's pid file looked like, and since when (performance.now()). */
  private readonly seen = new Map<string, { look: string; since: number }>();

  constructor(
    private readonly dir: string,
    private readonly baseName: string,
    private readonly me: ProcessIdentity,
    private readonly staleMs: number,
  ) {}

  /** The slot's state when no live process holds it (to take it with `whileHoldingDeadSlot`), else null. */
  slotIfDead(owner: string): SlotState | null {
    const state = inspectSlot(this.dir, this.baseName, owner, this.me);
    if (state.verdict !== 'unsure') {
      this.seen.delete(owner);
      return state.verdict === 'dead' ? state : null;
    }
    const look = state.seen ? `${state.seen.mtimeMs} ${state.seen.text}` : 'absent';
    const now = performance.now();
    const before = this.seen.get(owner);
    if (!before || before.look !== look) {
      this.seen.set(owner, { look, since: now });
      return null;
    }
    return now - before.since >= this.staleMs ? state : null;
  }

  /** Forgets owners that no longer have files. */
  keepOnly(owners: ReadonlySet<string>): void {
    for (const owner of this.seen.keys()) if (!owners.has(owner)) this.seen.delete(owner);
  }
}
