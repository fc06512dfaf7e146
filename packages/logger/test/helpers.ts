import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import initSqlJs from 'sql.js';
import { defaultLogSettings, listLogFiles, SIDECAR_TAIL_DB, type LogSettings } from '../src/index.js';

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

/** A tail DB as Fluent Bit 5.1 writes it (table in_tail_files), saying how far each file was read. */
export async function writeTailDb(dir: string, read: Array<{ file: string; offset: number; inode: number }>): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run('CREATE TABLE in_tail_files (id INTEGER PRIMARY KEY, name TEXT NOT NULL, offset INTEGER, inode INTEGER, created INTEGER, rotated INTEGER DEFAULT 0)');
  for (const r of read) db.run('INSERT INTO in_tail_files (name, offset, inode, created) VALUES (?, ?, ?, 0)', [r.file, r.offset, r.inode]);
  fs.writeFileSync(path.join(dir, SIDECAR_TAIL_DB), db.export());
  db.close();
}
