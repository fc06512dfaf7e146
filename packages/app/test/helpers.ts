import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLogSettings, listLogFiles, type LogSettings } from '@guitar-backend/logger';
import { createService, loadConfig, type AppConfig, type Service } from '../src/index.js';

export const fixture = (name: string): Buffer => fs.readFileSync(fileURLToPath(new URL(`../../test/fixtures/audio/${name}`, import.meta.url)));

export function tempDir(prefix = 'app-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestService extends Service {
  logDir: string;
  records(): Array<Record<string, unknown>>;
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
    records: () =>
      listLogFiles({ dir: logDir, file: defaultLogSettings.file })
        .reverse()
        .flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter(Boolean))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
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
