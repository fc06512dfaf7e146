import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultLogSettings, listLogFiles, type LogSettings } from '@guitar-backend/logger';
import { createService, loadConfig, type AppConfig, type Service } from '../src/index.js';

export const fixture = (name: string): Buffer => fs.readFileSync(fileURLToPath(new URL(`../../test/fixtures/audio/${name}`, import.meta.url)));

/** Seeded bytes that are no audio format and do not compress (random bytes hold many MPEG frame-sync patterns). */
export function junk(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function tempDir(prefix = 'app-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Every record in a log directory, oldest file first. A line that is not JSON throws, unless
 * `skipCutLines` (after a SIGKILL the last line may be cut short).
 */
export function readLogRecords(dir: string, options: { skipCutLines?: boolean } = {}): Array<Record<string, any>> {
  return listLogFiles({ dir, file: defaultLogSettings.file })
    .reverse()
    .flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter(Boolean))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch (err) {
        if (options.skipCutLines) return [];
        throw err;
      }
    });
}

export interface TestService extends Service {
  logDir: string;
  records(): Array<Record<string, any>>;
}

/** The real service (workers, essentia, logging to a temp directory), not listening. */
export async function startTestService(overrides: Partial<AppConfig> = {}): Promise<TestService> {
  const logDir = tempDir('app-logs-');
  const config: AppConfig = { ...loadConfig({}), workers: 1, queueMax: 2, shutdownGraceMs: 5000, ...overrides };
  const logSettings: LogSettings = { ...defaultLogSettings, dir: logDir, level: 'debug' };
  const service = await createService({ config, logSettings, logOptions: { stdout: 'off' } });
  return {
    ...service,
    logDir,
    records: () => readLogRecords(logDir),
  };
}

export interface Part {
  field: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body built by hand, so tests can also build broken ones. */
export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----guitar${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.field}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename !== undefined ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(service: Service, data: Buffer, filename = 'take.wav', contentType = 'audio/wav') {
  const body = multipart([{ field: 'file', filename, contentType, data }]);
  const res = await service.app.inject({ method: 'POST', url: '/api/analyze', ...body });
  return { status: res.statusCode, json: res.json() as Record<string, any>, headers: res.headers };
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Resolves to the exit code. */
  exited: Promise<number | null>;
  /** The URL it listens on (it is started with PORT=0). */
  url: Promise<string>;
}

export const mainScript = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** When a started service process exits, and the URL it says it listens on (rejected if it exits first). */
export function whenListening(child: ChildProcess): Pick<ServiceProcess, 'exited' | 'url'> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(() => reject(new Error(`exited before listening: ${out}`)));
  });
  return { exited, url };
}

/** The service as its own process (dist/src/main.js by default), on a free port of 127.0.0.1. */
export function startServiceProcess(env: Record<string, string>, script = mainScript, nodeArgs: readonly string[] = []): ServiceProcess {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_STDOUT: 'off', ANALYSIS_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, ...whenListening(child) };
}
