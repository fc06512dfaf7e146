import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { repoRoot } from './helpers.js';

/**
 * Runs `script` (the service's main, by default from the build) on a free port of 127.0.0.1 and
 * calls `fn` with its URL; stops it afterwards.
 */
export async function withApp<T>(fn: (url: string) => Promise<T>, options: { script?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<T> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-app-'));
  const child = spawn(process.execPath, [options.script ?? path.join(repoRoot, 'packages/app/dist/src/main.js')], {
    cwd: options.cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_DIR: logDir, LOG_STDOUT: 'off', ANALYSIS_WORKERS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', () => reject(new Error(`the app exited before listening: ${out}`)));
    });
    return await fn(url);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
