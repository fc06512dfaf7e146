/**
 * The log pipeline end to end, on the real programs: the project's logger (a child process) → log
 * files → the real Fluent Bit with the generated config → the real Loki with deploy/loki/loki.yaml.
 * Every scenario: 0 lost, 0 fragments; duplicates (at-least-once after a sidecar kill) are counted;
 * a LogQL query finds every record. Sizes are smaller than the benchmark's (`pnpm bench:pipeline`)
 * with the same mechanism: 1 MiB files instead of 10 MiB, so a burst still spans many rotations
 * beyond the kept count.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findBinaries, Loki, tempWorkDir, type Binaries } from './pipeline/harness.js';
import { appKilled, burstWithLateSidecar, burstWithSidecarStop, steadyRate, type ScenarioResult } from './pipeline/scenarios.js';

const found = findBinaries();
const skip = 'skip' in found ? found.skip : false;
const rotation = { maxFileBytes: 1024 * 1024, keepFiles: 5, frequency: null };
const BURST = 30_000;

function assertDelivered(r: ScenarioResult, opts: { duplicatesAllowed: boolean }): void {
  const summary = JSON.stringify({ ...r, sidecarProblems: r.sidecarProblems.slice(0, 5), newRunFirstRecord: undefined });
  assert.equal(r.lost, 0, `lost records: ${summary}`);
  assert.equal(r.fragments, 0, `fragments of lines reached Loki: ${summary}`);
  assert.equal(r.delivered, r.records, summary);
  assert.equal(r.lokiDistinct, r.records, `a LogQL query finds every record: ${summary}`);
  // count_over_time counts every stored copy; a log query may merge identical copies from different chunks.
  assert.ok(r.lokiCount >= r.lokiEntries && r.lokiEntries >= r.records, `count_over_time ≥ log query entries ≥ records: ${summary}`);
  if (!opts.duplicatesAllowed) {
    assert.equal(r.duplicated, 0, summary);
    // A push Loki answered with an error after storing it is retried: the one way to a second copy without a kill.
    if (r.rejectedPushes === 0) {
      assert.equal(r.lokiEntries, r.records, `a LogQL query shows each line once: ${summary}`);
      assert.equal(r.lokiCount, r.records, `count_over_time counts each line once: ${summary}`);
    }
  }
  // A file the glob scan found as retention deleted it (read to the end, so nothing is missed) is
  // logged as ENOENT / "cannot register file"; a push Loki refused for its rate limit (429) or
  // answered with a 5xx under load is retried (the counts above prove it arrived); a chunk a
  // SIGKILL cut while it was being written cannot be read back at the restart, and its records are
  // read again from the tail DB's offsets (the counts above prove nothing was lost). Anything else
  // is a real error.
  const benign = /errno=2\] No such file or directory|cannot register file|HTTP status=(429|5\d\d)\b|\[storage\] cannot mmap\/read chunk/;
  assert.deepEqual(r.sidecarProblems.filter((l) => /\[error\]/.test(l) && !benign.test(l)), [], 'Fluent Bit logged no other error');
  assert.equal(r.writerStats.filesDroppedUnread, 0, 'retention never had to drop an unread file');
  // Nor a warning, but the notice that a SIGTERM starts Fluent Bit's grace period: none about the
  // generated configuration (a Refresh_Interval of `0.5`, read as 5 ns, draws "very low
  // refresh_interval … might cause high CPU usage" and spins a whole core).
  const warnings = r.sidecarProblems.filter((l) => /\[ ?warn\]/.test(l) && !/service will shutdown in max \d+ seconds/.test(l));
  assert.deepEqual(warnings, [], 'Fluent Bit warned of nothing but its shutdown');
}

describe('logger → real Fluent Bit → real Loki', { concurrency: false }, () => {
  let binaries: Binaries;
  let loki: Loki;

  before(async () => {
    if (skip) return;
    binaries = found as Binaries;
    loki = await Loki.start(binaries.loki, tempWorkDir('loki'));
  });
  after(async () => {
    await loki?.stop();
  });

  test(`a. a burst of ${BURST.toLocaleString('en')} records, sidecar started 5 s late: retention waits for it, nothing is lost`, { skip }, async () => {
    const r = await burstWithLateSidecar(binaries, loki, { records: BURST, padChars: 100, rotation, lateMs: 5000, maxMs: 120_000 });
    assertDelivered(r, { duplicatesAllowed: false });
    assert.ok(r.writerStats.rotations! > rotation.keepFiles + 3, `the burst spans more files than are kept (${r.writerStats.rotations} rotations)`);
    assert.ok(r.filesLeft <= rotation.keepFiles, `read files were deleted afterwards (${r.filesLeft} left)`);
  });

  test('b. sidecar SIGKILLed at 50 %, restarted after 1 s: nothing lost (filesystem buffering), duplicates counted', { skip }, async () => {
    const r = await burstWithSidecarStop(binaries, loki, { records: BURST, padChars: 100, rotation, signal: 'SIGKILL', maxMs: 120_000 });
    assertDelivered(r, { duplicatesAllowed: true });
    assert.equal(r.sidecarStarts, 2);
  });

  test('c. sidecar SIGTERMed at 50 %, restarted after 1 s: nothing lost, nothing duplicated, no fragment', { skip }, async () => {
    const r = await burstWithSidecarStop(binaries, loki, { records: BURST, padChars: 100, rotation, signal: 'SIGTERM', maxMs: 120_000 });
    assertDelivered(r, { duplicatesAllowed: false });
    assert.equal(r.sidecarStarts, 2);
  });

  test('d. app SIGKILLed at a random moment, new app on the same directory: every line on disk delivered, the new run\'s first record whole', { skip }, async () => {
    const r = await appKilled(binaries, loki, { padChars: 5000, newRunRecords: 500, maxMs: 60_000 });
    assertDelivered(r, { duplicatesAllowed: false });
    assert.ok(r.killedRunOnDisk! > 0, 'the killed run wrote lines');
    assert.equal(r.killedRunDeliveredOfDisk, r.killedRunOnDisk, 'every line of the killed run on disk reached Loki');
    assert.ok(r.tornOnDisk! <= 1, `at most the one line the kill cut (${r.tornOnDisk})`);
    assert.equal(r.newRunFirstRecord?.event, 'service.start', 'the new run\'s first record parses');
  });

  test('e. 2,000 lines/s for 8 s across rotations: every record delivered (latency: see pnpm bench:pipeline)', { skip }, async () => {
    const r = await steadyRate(binaries, loki, { perSecond: 2000, seconds: 8, padChars: 100, maxMs: 60_000 });
    assertDelivered(r, { duplicatesAllowed: false });
    assert.ok(r.writerStats.rotations! >= 3, `rotations happened (${r.writerStats.rotations})`);
  });
});
