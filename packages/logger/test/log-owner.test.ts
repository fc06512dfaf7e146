import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLogging, listLogFiles } from '../src/index.js';
import { claimLogOwner, inspectSlot, ownerHost, whileHoldingDeadSlot, type ProcessIdentity } from '../src/log-owner.js';
import { fixture, readRecords, tempDir, testSettings } from './helpers.js';

const holdScript = fixture('hold-owner.js');
const fast = { heartbeatMs: 50, staleMs: 500 };

/** A child process holding an owner in `dir`; resolves once it has claimed one. */
function holder(dir: string, identity: string[] = [], staleMs = 500): { child: ChildProcess; owner: Promise<string>; exited: Promise<void> } {
  const child = spawn(process.execPath, [holdScript, dir, ...identity], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOLD_OWNER_STALE_MS: String(staleMs) } });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const owner = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /owner (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(() => reject(new Error(`holder exited: ${out}`)));
  });
  return { child, owner, exited };
}

const identity = (hostname: string, pid: number, pidNamespace: string | null = null): ProcessIdentity => ({ hostname, pid, pidNamespace, startTicks: null });

test('host names become owner names of [a-z0-9-]; one that had to change carries a hash, so two hosts never share', () => {
  assert.equal(ownerHost('web-1'), 'web-1');
  assert.equal(ownerHost('3f2a9c1b7d40'), '3f2a9c1b7d40');
  assert.match(ownerHost('Web_1.example.test'), /^web-1-example-test-[0-9a-f]{8}$/);
  assert.notEqual(ownerHost('a.b'), ownerHost('a-b'));
  assert.notEqual(ownerHost('a_b'), ownerHost('a.b'));
  assert.match(ownerHost(''), /^host-[0-9a-f]{8}$/);
});

test('two live processes of one host get different owners; once the first is killed, the next start takes its slot back', async () => {
  const dir = tempDir();
  const first = holder(dir);
  const firstOwner = await first.owner;
  const second = holder(dir);
  try {
    const secondOwner = await second.owner;
    assert.notEqual(secondOwner, firstOwner);
    assert.equal(firstOwner, `${ownerHost(os.hostname())}_0`);
    assert.equal(secondOwner, `${ownerHost(os.hostname())}_1`);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(fs.existsSync(path.join(dir, `app.${firstOwner}.pid`)), 'a killed holder leaves its pid file');
    const third = await claimLogOwner(dir, 'app', fast);
    assert.equal(third.name, firstOwner, 'the dead holder’s slot is taken back');
    third.release();
    assert.ok(!fs.existsSync(path.join(dir, `app.${firstOwner}.pid`)), 'release removes the pid file');
  } finally {
    first.child.kill('SIGKILL');
    second.child.kill('SIGKILL');
    await Promise.all([first.exited, second.exited]);
  }
});

test('processes started at the same moment on one directory all get different owners', async () => {
  const dir = tempDir();
  const holders = Array.from({ length: 5 }, () => holder(dir));
  try {
    const owners = await Promise.all(holders.map((h) => h.owner));
    assert.equal(new Set(owners).size, owners.length, owners.join(', '));
  } finally {
    for (const h of holders) h.child.kill('SIGKILL');
    await Promise.all(holders.map((h) => h.exited));
  }
});

test('containers (other host names) never compete for a slot, even with the same pid', async () => {
  const dir = tempDir();
  const a = await claimLogOwner(dir, 'app', { ...fast, identity: identity('3f2a9c1b7d40', 1, 'pid:[1]') });
  const b = await claimLogOwner(dir, 'app', { ...fast, identity: identity('9c0d77e1a2b3', 1, 'pid:[1]') });
  assert.deepEqual([a.name, b.name], ['3f2a9c1b7d40_0', '9c0d77e1a2b3_0']);
  a.release();
  b.release();
});

test('in another pid namespace the heartbeat decides: a restarted container takes back its dead predecessor’s slot; a live sibling keeps its own', async () => {
  const dir = tempDir();
  // A sibling with the same host name in another pid namespace (host networking), alive: it keeps touching its pid file.
  const sibling = holder(dir, ['pod-7', '1', 'pid:[111]']);
  try {
    assert.equal(await sibling.owner, 'pod-7_0');
    const other = await claimLogOwner(dir, 'app', { ...fast, identity: identity('pod-7', 1, 'pid:[222]') });
    assert.equal(other.name, 'pod-7_1', 'a pid file still touched is held');
    other.release();
  } finally {
    sibling.child.kill('SIGKILL');
    await sibling.exited;
  }
  // The same container restarted (same host name, a new pid namespace, its predecessor killed): the untouched pid file is dead.
  const restarted = await claimLogOwner(dir, 'app', { ...fast, identity: identity('pod-7', 1, 'pid:[333]') });
  assert.equal(restarted.name, 'pod-7_0');
  restarted.release();
});

test('a pid file whose pid now runs another process (a different start time) is dead', { skip: fs.existsSync('/proc/self/stat') ? false : 'no /proc here: start times cannot be read' }, async () => {
  const dir = tempDir();
  const me: ProcessIdentity = { hostname: os.hostname(), pid: process.pid, pidNamespace: fs.readlinkSync('/proc/self/ns/pid'), startTicks: null };
  const stale = { owner: `${ownerHost(me.hostname)}_0`, hostname: me.hostname, pid: process.ppid, pid_namespace: me.pidNamespace, start_ticks: '1', claim: 'c', since: '2026-01-01T00:00:00.000Z' };
  fs.writeFileSync(path.join(dir, `app.${stale.owner}.pid`), JSON.stringify(stale));
  const owner = await claimLogOwner(dir, 'app', { ...fast, identity: me });
  assert.equal(owner.name, stale.owner);
  owner.release();
});

test('two loggers on one directory write separate files, each listed by its owner, and the glob still covers both', async () => {
  const dir = tempDir();
  const settings = testSettings(dir);
  const one = await createLogging({ settings, stdout: 'off', base: { instance_id: 'one' } });
  const two = await createLogging({ settings, stdout: 'off', base: { instance_id: 'two' } });
  for (let i = 0; i < 50; i++) {
    one.logger.info({ seq: i }, 'from one');
    two.logger.info({ seq: i }, 'from two');
  }
  const owners = [one.owner(), two.owner()];
  await one.close();
  await two.close();
  assert.notEqual(owners[0], owners[1]);
  for (const [i, owner] of owners.entries()) {
    const files = listLogFiles(settings, { owner: owner ?? '' });
    assert.equal(files.length, 1);
    const ids = new Set(fs.readFileSync(files[0]?.path ?? '', 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { instance_id: string }).instance_id));
    assert.deepEqual([...ids], [i === 0 ? 'one' : 'two']);
  }
  assert.equal(readRecords(dir).length, 100);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => !n.endsWith('.log')), [], 'no pid file is left after a clean close');
});

test('a holder killed but not yet reaped by its parent (a zombie) is dead', { skip: fs.existsSync('/proc/self/stat') ? false : 'no /proc here: a zombie cannot be told' }, async () => {
  const dir = tempDir();
  // sh starts the holder, then becomes `sleep`, which never reaps it.
  const parent = spawn('sh', ['-c', `"$0" "$1" "$2" & echo $!; exec sleep 30`, process.execPath, holdScript, dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const holderPid = await new Promise<number>((resolve) => parent.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const pidFile = path.join(dir, `app.${ownerHost(os.hostname())}_0.pid`);
    for (let i = 0; i < 200 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(fs.existsSync(pidFile), 'the holder claimed slot 0');
    process.kill(holderPid, 'SIGKILL');
    for (let i = 0; i < 200 && !/\) Z /.test(fs.readFileSync(`/proc/${holderPid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 25));
    const owner = await claimLogOwner(dir, 'app', fast);
    assert.equal(owner.name, `${ownerHost(os.hostname())}_0`);
    owner.release();
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a slot held by another writer to delete a dead owner\'s files: a restart of that owner waits for it, then takes its slot back', async () => {
  const dir = tempDir();
  const pidFile = path.join(dir, 'app.pod-7_0.pid');
  const deadRecord = { owner: 'pod-7_0', hostname: 'pod-7', pid: 1, pid_namespace: 'pid:[111]', start_ticks: null, claim: 'dead', since: '2026-01-01T00:00:00.000Z' };
  fs.writeFileSync(pidFile, JSON.stringify(deadRecord));
  fs.writeFileSync(path.join(dir, 'app.pod-7_0.1.log'), '{}\n');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(pidFile, past, past);
  const sweeper = identity('sweeper', process.pid, 'pid:[999]');
  const state = inspectSlot(dir, 'app', 'pod-7_0', sweeper);
  assert.equal(state.verdict, 'unsure', 'another host\'s holder: only its heartbeat can tell');
  let restart: ReturnType<typeof holder> | null = null;
  const held = whileHoldingDeadSlot(state, 'pod-7_0', sweeper, () => {
    assert.equal((JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { hostname: string }).hostname, 'sweeper', 'the slot is held by the deleting writer');
    // The owner restarts (same host name, a new pid namespace) while the slot is held; it would
    // take a holder's pid file standing still for 10 s as dead, so it can only wait.
    restart = holder(dir, ['pod-7', '1', 'pid:[333]'], 10_000);
    fs.unlinkSync(path.join(dir, 'app.pod-7_0.1.log'));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000); // held for 3 s, the restart trying meanwhile
  });
  const released = Date.now();
  assert.ok(held);
  assert.ok(!fs.existsSync(pidFile), 'released: the pid file of the deletion is gone');
  assert.ok(restart);
  const started = restart as ReturnType<typeof holder>;
  try {
    assert.equal(await started.owner, 'pod-7_0', 'it waited and took its own slot, not the next one');
    const claimed = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { hostname: string; since: string };
    assert.equal(claimed.hostname, 'pod-7');
    assert.ok(Date.parse(claimed.since) < released, 'it was trying while the slot was held (its record is made when it starts on the slot)');
  } finally {
    started.child.kill('SIGKILL');
    await started.exited;
  }
});
