import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultLogSettings, listLogFiles, type LogSettings } from '../src/index.js';

export function tempDir(prefix = 'logger-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testSettings(dir: string, overrides: Partial<LogSettings> = {}): LogSettings {
  return { ...defaultLogSettings, dir, ...overrides };
}

/** Every line of every log file in the directory, oldest file first. */
export function readLines(dir: string): string[] {
  const files = listLogFiles({ dir, file: defaultLogSettings.file }).reverse();
  return files.flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter((l) => l.length > 0));
}

export function readRecords(dir: string): Array<Record<string, unknown>> {
  return readLines(dir).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runNode(script: string, args: string[], options: SpawnOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
