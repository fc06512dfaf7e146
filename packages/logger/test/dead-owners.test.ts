import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLogging, listLogFiles, SIDECAR_TAIL_DB, type LogFile, type LogSettings, type RetentionSettings } from '../src/index.js';
import { fixture, tempDir, testSettings, writeTailDb } from './helpers.js';

/**
 * Files of writers that died and never came back: another writer's retention deletes them once the
 * sidecar has read them (its newest files only after a grace, for the next holder of its slot), or
 * when the volume budget forces it; never a live writer's. With real processes on one directory.
 */

const writerScript = fixture('writer.js');
const rotation = { maxFileBytes: 4096, keepFiles: 2, frequency: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (5 s at most) for a writer's retention, which sweeps once a second, to have done something. */
async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await sleep(50);
}

function settingsIn(dir: string): LogSettings {
  return testSettings(dir, { rotation });
}

function retentionIn(dir: string, extra: Partial<RetentionSettings> = {}): RetentionSettings {
  return { waitForSidecar: true, sidecarDb: path.join(dir, SIDECAR_TAIL_DB), budgetBytes: 1024 * 1024, ...extra };
}

interface Writer {
  child: ChildProcess;
  owner: string;
  exited: Promise<void>;
}

/** Starts a writer process (fixtures/writer.ts); resolves once it has written its lines (and, for `kill`, died). */
async function startWriter(dir: string, lines: number, mode: 'wait' | 'kill' | 'close', host: string[] = []): Promise<Writer> {
  const child = spawn(process.execPath, [writerScript, dir, String(lines), String(rotation.maxFileBytes), mode, ...host], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 400 && !/owner \S+/.test(out); i++) await sleep(25);
  const owner = /owner (\S+)/.exec(out)?.[1];
  assert.ok(owner, `the writer started: ${out}`);
  if (mode !== 'wait') await exited;
  return { child, owner, exited };
}

const filesOf = (dir: string, owner: string): LogFile[] => listLogFiles({ dir, file: settingsIn(dir).file }, { owner });
const exists = (f: LogFile): boolean => fs.existsSync(f.path);

/** Tells the tail DB that these files were read to their end, except `short` ones (10 bytes short). */
async function sidecarRead(dir: string, files: LogFile[], short: LogFile[] = []): Promise<void> {
  await writeTailDb(
    dir,
    files.map((f) => {
      const stat = fs.statSync(f.path);
      return { file: f.path, offset: short.includes(f) ? stat.size - 10 : stat.size, inode: stat.ino };
    }),
  );
}

test('a dead writer\'s files the sidecar has read go (its newest two only after the grace); an unread one stays; a live writer\'s stay', async () => {
  const dir = tempDir();
  // This writer first, so it holds a slot of its own and never takes the dead writer's back.
  const sweeper = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir), stdout: 'off' });
  const live = await startWriter(dir, 100, 'wait');
  try {
    const dead = await startWriter(dir, 100, 'kill');
    assert.ok(fs.existsSync(path.join(dir, `app.${dead.owner}.pid`)), 'a killed writer leaves its pid file');
    const deadFiles = filesOf(dir, dead.owner); // newest first
    const liveFiles = filesOf(dir, live.owner);
    assert.ok(deadFiles.length >= 5 && liveFiles.length >= 5, `${deadFiles.length} and ${liveFiles.length} files`);
    const unread = deadFiles.at(-2) as LogFile; // an old one, 10 bytes short
    await sidecarRead(dir, [...deadFiles, ...liveFiles], [unread]);
    await sweeper.close(); // its last sweep

    assert.deepEqual(deadFiles.slice(0, 2).map(exists), [true, true], 'its newest two stay for the next holder of its slot');
    for (const f of deadFiles.slice(2)) assert.equal(exists(f), f === unread, `${f.name}: ${f === unread ? 'unread, kept' : 'read, deleted'}`);
    assert.ok(liveFiles.every(exists), 'a live writer\'s files stay, even read to their end');
    assert.ok(fs.existsSync(path.join(dir, `app.${live.owner}.pid`)), 'and its pid file');
    assert.equal(sweeper.stats().filesDroppedUnread, 0);
  } finally {
    live.child.kill('SIGKILL');
    await live.exited;
    await sweeper.close();
  }
});

test('a restart within the grace finds the run before it; once the grace is over a dead writer\'s newest files go too, once read', async () => {
  const dir = tempDir();
  const sweeper = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir), stdout: 'off' });
  // Both alive at once (else the second would take the first's slot back), then both killed.
  const restarting = await startWriter(dir, 60, 'wait');
  const gone = await startWriter(dir, 60, 'wait');
  for (const w of [restarting, gone]) w.child.kill('SIGKILL');
  await Promise.all([restarting.exited, gone.exited]);
  const restartingFiles = filesOf(dir, restarting.owner);
  const goneFiles = filesOf(dir, gone.owner);
  await sidecarRead(dir, [...restartingFiles, ...goneFiles]);
  await waitFor(() => !exists(goneFiles.at(-1) as LogFile));
  await sleep(200); // that sweep's other deletions
  assert.ok(restartingFiles.slice(0, 2).every(exists) && goneFiles.slice(0, 2).every(exists), 'within the grace: the newest files stay');
  assert.ok(!restartingFiles.slice(2).some(exists) && !goneFiles.slice(2).some(exists), 'older ones, read, go at once');

  // The first one comes back (the lowest free slot is its own) and finds its previous run.
  const lastLine = restartingFiles.filter(exists).map((f) => fs.readFileSync(f.path, 'utf8')).join('').trim().split('\n')[0] ?? '{}'; // its newest file first: the last line of the run
  const previousRun = (JSON.parse(lastLine) as { instance_id: string }).instance_id;
  const back = await startWriter(dir, 1, 'wait');
  try {
    assert.equal(back.owner, restarting.owner);
    const slotText = filesOf(dir, back.owner).map((f) => fs.readFileSync(f.path, 'utf8')).join('');
    assert.ok(slotText.includes(`"instance_id":"${previousRun}"`), 'the run before it is there to be read');

    // The other one never comes back: after the grace, its read files go, all of them, and its pid file.
    await sweeper.close();
    const late = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir, { deadOwnerGraceMs: 0 }), stdout: 'off' });
    await late.close();
    assert.ok(!goneFiles.some(exists), `${gone.owner}'s files are gone`);
    assert.ok(!fs.existsSync(path.join(dir, `app.${gone.owner}.pid`)), 'and its pid file');
    const backFiles = filesOf(dir, back.owner);
    assert.ok(backFiles.length >= 3 && backFiles.every(exists), 'the slot taken back is a live writer\'s again: its files stay, read or not');
  } finally {
    back.child.kill('SIGKILL');
    await back.exited;
    await sweeper.close();
  }
});

test('another host\'s or pid namespace\'s writer is judged by its heartbeat: killed or closed, its read files go once its pid file has stood still; a live one\'s stay', async () => {
  const dir = tempDir();
  const live = await startWriter(dir, 60, 'wait', ['pod-a', 'pid:[4026532001]']);
  try {
    const dead = await startWriter(dir, 60, 'kill', ['pod-b', 'pid:[4026532002]']);
    const closed = await startWriter(dir, 60, 'close', ['pod-c', 'pid:[4026532003]']);
    assert.ok(!fs.existsSync(path.join(dir, `app.${closed.owner}.pid`)), 'a clean close leaves no pid file');
    const [deadFiles, closedFiles, liveFiles] = [dead, closed, live].map((w) => filesOf(dir, w.owner)) as [LogFile[], LogFile[], LogFile[]];
    await sidecarRead(dir, [...deadFiles, ...closedFiles, ...liveFiles]);
    const options = { settings: settingsIn(dir), retention: retentionIn(dir, { deadOwnerGraceMs: 0 }), stdout: 'off' as const, destination: { owner: { staleMs: 1000 } } };

    const glance = await createLogging(options); // two looks a moment apart: open and close
    await glance.close();
    assert.ok(deadFiles.every(exists) && closedFiles.every(exists), 'one look is not enough: a heartbeat may still come');

    const sweeper = await createLogging(options);
    await sleep(3300); // sweeps once a second: two looks 1 s apart at least
    await sweeper.close();
    assert.ok(!deadFiles.some(exists), 'the killed writer\'s files are gone');
    assert.ok(!closedFiles.some(exists), 'so are those of the writer that closed');
    assert.ok(liveFiles.every(exists), 'the live writer\'s stay: its heartbeat goes on');
  } finally {
    live.child.kill('SIGKILL');
    await live.exited;
  }
});

test('the volume budget takes a dead writer\'s oldest files even unread (within the grace), counted and logged as dropped unread', async () => {
  const dir = tempDir();
  const budgetBytes = 6 * 4096;
  const sweeper = await createLogging({ settings: settingsIn(dir), retention: retentionIn(dir, { budgetBytes }), stdout: 'off' });
  const dead = await startWriter(dir, 150, 'wait');
  const deadFiles = filesOf(dir, dead.owner); // listed while it lives: nothing of it goes yet
  assert.ok(deadFiles.length >= 8, `${deadFiles.length} files`);
  dead.child.kill('SIGKILL');
  await dead.exited;
  await sweeper.close(); // its last sweep; no tail DB: nothing was read
  const stats = sweeper.stats();
  const left = listLogFiles({ dir, file: settingsIn(dir).file });
  const total = left.reduce((sum, f) => sum + fs.statSync(f.path).size, 0);
  assert.ok(total <= budgetBytes + 4096, `${total} bytes kept for a budget of ${budgetBytes} (and the drop reports)`);
  assert.ok(!exists(deadFiles.at(-1) as LogFile) && exists(deadFiles[0] as LogFile), 'the oldest went first');
  assert.ok(stats.filesDroppedUnread >= deadFiles.length - 6, `${stats.filesDroppedUnread} files dropped unread`);
  const reports = left
    .flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter((l) => l.length > 0))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.event === 'log.dropped_unread');
  assert.ok(reports.some((r) => String(r.file_name).includes(dead.owner)), 'the loss is logged, naming the dead writer\'s file');
});
