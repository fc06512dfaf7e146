import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { songWav } from '../src/index.js';
import { mainScript, readLogRecords, startServiceProcess, tempDir } from './helpers.js';

interface Running {
  url: string;
  exit: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  logDir: string;
}

async function startMain(env: Record<string, string>): Promise<Running> {
  const logDir = tempDir('app-main-');
  const service = startServiceProcess({ LOG_DIR: logDir, ...env });
  return { url: await service.url, exit: service.exited, kill: (s) => service.child.kill(s), logDir };
}

function post(url: string, seconds: number): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([songWav({ seconds }).wav]), 'take.wav');
  return fetch(`${url}/api/analyze`, { method: 'POST', body: form });
}

async function waitForInFlight(url: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const h = (await (await fetch(`${url}/api/health`)).json()) as { analyses_in_flight: number };
    if (h.analyses_in_flight === 1) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('analysis never started');
}

function events(logDir: string): string[] {
  return readLogRecords(logDir).map((r) => String(r.event));
}

test('SIGTERM: stops accepting, lets the in-flight analysis finish, flushes the log, exits 0', async () => {
  const svc = await startMain({ SHUTDOWN_GRACE_SECONDS: '60' });
  const pending = post(svc.url, 40);
  await waitForInFlight(svc.url);
  svc.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { audio: { duration_seconds: number } }).audio.duration_seconds, 40);
  assert.equal(await svc.exit, 0);
  const seen = events(svc.logDir);
  assert.ok(seen.indexOf('service.stopping') < seen.indexOf('analysis.end'), seen.join(' '));
  assert.equal(seen.at(-1), 'service.stop');
  await assert.rejects(fetch(`${svc.url}/api/health`));
});

test('SIGTERM with an analysis longer than the grace period: it is stopped with 503, and the process still exits 0', async () => {
  const svc = await startMain({ SHUTDOWN_GRACE_SECONDS: '1' });
  const pending = post(svc.url, 240);
  await waitForInFlight(svc.url);
  svc.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: string }).error, 'shutting_down');
  assert.equal(await svc.exit, 0);
  const seen = events(svc.logDir);
  assert.ok(seen.includes('service.grace_expired'));
  assert.equal(seen.at(-1), 'service.stop');
});

test('a bad setting stops the start with a message naming it, exit code 2', async () => {
  const child = spawn(process.execPath, [mainScript], { env: { ...process.env, PORT: 'eighty', LOG_DIR: tempDir() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /PORT must be a whole number from 0 to 65535, got "eighty"/);
});
