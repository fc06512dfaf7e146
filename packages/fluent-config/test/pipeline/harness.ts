/**
 * The log pipeline, for real: the project's logger in a child process → log files → the real Fluent
 * Bit running the generated config (only paths, hosts and ports changed) → the real Loki running
 * deploy/loki/loki.yaml (paths and ports changed). A small proxy in front of Loki records every
 * record Loki acknowledged, with the time it did (arrival), so loss, duplicates, fragments and
 * latency are counted per record; Loki itself is then queried with LogQL.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { defaultLogSettings, type LogSettings } from '@guitar-backend/logger';
import { renderVariant } from '../../src/index.js';
import type { WriterPlan } from '../fixtures/pipeline-writer.js';

export type { WriterPlan };

const repoRoot = path.resolve(fileURLToPath(new URL('../../../../../', import.meta.url)));
const writerScript = fileURLToPath(new URL('../fixtures/pipeline-writer.js', import.meta.url));

export interface Binaries {
  fluentBit: string;
  loki: string;
  /** A cgroup directory the sidecar runs in (its CPU limit, as the pod's); see bench/cpu-limit.ts. */
  sidecarCgroup?: string;
}

const HOW_TO =
  'set FLUENT_BIT_BIN to a Fluent Bit 5.1 binary and LOKI_BIN to a Loki 3.5 binary (CI sets both from ../shared/bin; ' +
  'a Fluent Bit build needs libyaml-0-2, libssl3, libsqlite3-0)';

/** The real binaries from the environment, or the reason the pipeline tests cannot run here. */
export function findBinaries(env: NodeJS.ProcessEnv = process.env): Binaries | { skip: string } {
  const missing: string[] = [];
  const check = (name: string): string | null => {
    const value = env[name];
    if (!value) {
      missing.push(`${name} is not set`);
      return null;
    }
    try {
      fs.accessSync(value, fs.constants.X_OK);
      return value;
    } catch {
      missing.push(`${name}=${value} is not an executable file`);
      return null;
    }
  };
  const fluentBit = check('FLUENT_BIT_BIN');
  const loki = check('LOKI_BIN');
  if (!fluentBit || !loki) return { skip: `${missing.join('; ')}: ${HOW_TO}` };
  return { fluentBit, loki };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every process started here, ended when this process exits however it exits (a failed test included). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

// ---------------------------------------------------------------- Loki

export class Loki {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /** Starts Loki with deploy/loki/loki.yaml, its paths under `workDir` and its ports free ones on 127.0.0.1. */
  static async start(bin: string, workDir: string): Promise<Loki> {
    const config = parseYaml(fs.readFileSync(path.join(repoRoot, 'deploy', 'loki', 'loki.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const port = await freePort();
    const grpc = await freePort();
    const dataDir = path.join(workDir, 'loki');
    const relocate = (value: unknown): unknown => {
      if (typeof value === 'string' && value.startsWith('/loki')) return dataDir + value.slice('/loki'.length);
      if (Array.isArray(value)) return value.map(relocate);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)]));
      return value;
    };
    const adjusted = relocate(config) as Record<string, Record<string, unknown>>;
    adjusted.server = { ...adjusted.server, http_listen_address: '127.0.0.1', http_listen_port: port, grpc_listen_address: '127.0.0.1', grpc_listen_port: grpc };
    const configFile = path.join(workDir, 'loki.yaml');
    fs.writeFileSync(configFile, stringifyYaml(adjusted));
    const logFile = path.join(workDir, 'loki.log');
    const out = fs.openSync(logFile, 'a');
    const child = track(spawn(bin, [`-config.file=${configFile}`], { stdio: ['ignore', out, out] }));
    fs.closeSync(out);
    const loki = new Loki(port, child, logFile);
    await waitFor(
      `Loki to be ready (log: ${logFile})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`Loki exited with ${child.exitCode}: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
        const r = await fetch(`${loki.url}/ready`).catch(() => null);
        return r?.status === 200;
      },
      90_000,
      250,
    );
    return loki;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await Promise.race([exited(this.child), sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /**
   * Every log entry a LogQL query returns over [startMs, endMs], forward, paged by time: after a full
   * page the entries of its last timestamp are left for the next page, which starts at that
   * timestamp, so pages neither overlap nor miss entries (fewer than `limit` share a timestamp).
   */
  async lines(query: string, startMs: number, endMs: number): Promise<Array<{ ts: string; line: string; labels: Record<string, string> }>> {
    // A page must fit Loki's 4 MB gRPC messages: big lines need smaller pages, found by halving.
    let limit = 5000;
    const out: Array<{ ts: string; line: string; labels: Record<string, string> }> = [];
    let start = BigInt(startMs) * 1_000_000n;
    const end = BigInt(endMs) * 1_000_000n;
    for (;;) {
      const params = new URLSearchParams({ query, start: String(start), end: String(end), limit: String(limit), direction: 'forward' });
      const response = await fetch(`${this.url}/loki/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(60_000) }).catch((err: unknown) => err as Error);
      if (response instanceof Error || response.status >= 500) {
        if (limit <= 100) throw new Error(`Loki query ${query}: ${response instanceof Error ? response.message : `HTTP ${response.status} ${await response.text()}`}`);
        limit = Math.floor(limit / 2);
        continue;
      }
      if (!response.ok) throw new Error(`Loki query ${query}: HTTP ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> } };
      const page = body.data.result.flatMap((r) => r.values.map(([ts, line]) => ({ ts, line, labels: r.stream })));
      page.sort((a, b) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : BigInt(a.ts) > BigInt(b.ts) ? 1 : 0));
      if (page.length < limit) {
        out.push(...page);
        return out;
      }
      const last = page.at(-1)!.ts;
      const before = page.filter((e) => e.ts !== last);
      if (before.length === 0) throw new Error(`more than ${limit} entries share the timestamp ${last}`);
      out.push(...before);
      start = BigInt(last);
    }
  }

  /** A LogQL metric query at one instant; the sum of the result's values. */
  async count(query: string, atMs: number): Promise<number> {
    const params = new URLSearchParams({ query, time: String(BigInt(atMs) * 1_000_000n) });
    const response = await fetch(`${this.url}/loki/api/v1/query?${params}`);
    if (!response.ok) throw new Error(`Loki query ${query}: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
    return body.data.result.reduce((sum, r) => sum + Number(r.value[1]), 0);
  }
}

// ---------------------------------------------------------------- what reached Loki

export interface Arrival {
  seq: number;
  /** The record's own time (ms). */
  timeMs: number;
  /** When Loki acknowledged the push that carried it (ms). */
  arrivalMs: number;
}

/** In front of Loki: forwards each push and, once Loki has acknowledged it, records what it carried. */
export class LokiDoor {
  readonly arrivals = new Map<string, Arrival[]>();
  /** Lines that were not a whole record of ours (`{"log": …}` fragments, or unparseable). */
  readonly fragments: string[] = [];
  rejectedPushes = 0;
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(loki: Loki): Promise<LokiDoor> {
    let door: LokiDoor | null = null;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
        fetch(`${loki.url}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: req.method === 'GET' ? undefined : body })
          .then(async (upstream) => {
            const text = await upstream.text();
            if (upstream.ok && req.url?.startsWith('/loki/api/v1/push')) door?.record(body, Date.now());
            else if (!upstream.ok && door) door.rejectedPushes++;
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
            res.end(text);
          })
          .catch((err: unknown) => {
            res.writeHead(502);
            res.end(String(err));
          });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    door = new LokiDoor(server, (server.address() as net.AddressInfo).port);
    return door;
  }

  private record(body: Buffer, arrivalMs: number): void {
    const push = JSON.parse(body.toString('utf8')) as { streams: Array<{ values: Array<[string, string, unknown?]> }> };
    for (const stream of push.streams) {
      for (const [, line] of stream.values) {
        let record: Record<string, unknown> | null = null;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          record = null;
        }
        if (!record || typeof record.run !== 'string' || typeof record.seq !== 'number') {
          this.fragments.push(line);
          continue;
        }
        const list = this.arrivals.get(record.run) ?? [];
        list.push({ seq: record.seq, timeMs: Date.parse(String(record.time)), arrivalMs });
        this.arrivals.set(record.run, list);
      }
    }
  }

  /** Distinct sequence numbers of a run that reached Loki. */
  distinct(run: string): number {
    return new Set((this.arrivals.get(run) ?? []).map((a) => a.seq)).size;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------- Fluent Bit

/** The sidecar: the generated compose config with paths, hosts and ports changed. Restartable; tracks the peak VmHWM. */
export class Sidecar {
  private child: ChildProcess | null = null;
  private usageTimer: NodeJS.Timeout | null = null;
  peakRssBytes = 0;
  starts = 0;
  /** CPU seconds (user + system) and wall seconds of every run so far, the current one up to its last sample. */
  private cpuDone = 0;
  private cpuCurrent = 0;
  private wallDone = 0;
  private startedAt = 0;
  readonly configFile: string;
  readonly logFile: string;

  constructor(
    private readonly bin: string,
    readonly workDir: string,
    private readonly cgroup: string | undefined,
    settings: LogSettings,
    lokiPort: number,
    httpPort: number,
    metricsPort: number,
    fluentBitVersion?: string,
  ) {
    const configDir = path.join(workDir, 'fluent-bit');
    fs.mkdirSync(configDir, { recursive: true });
    const rendered = renderVariant('compose', {
      settings,
      compose: {
        ...(fluentBitVersion ? { fluentBitVersion } : {}),
        configDir,
        httpPort,
        outputs: {
          loki: { host: '127.0.0.1', port: lokiPort, structuredMetadata: ['request_id', 'instance_id'] },
          prometheusExporterPort: metricsPort,
          stdout: true,
        },
      },
    });
    // Listen on the loopback only (a host change).
    this.configFile = path.join(configDir, 'fluent-bit.conf');
    fs.writeFileSync(this.configFile, rendered.classic.replaceAll('0.0.0.0', '127.0.0.1'));
    fs.writeFileSync(path.join(configDir, 'parsers.conf'), rendered.parsers);
    this.logFile = path.join(workDir, 'fluent-bit.log');
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const out = fs.openSync(this.logFile, 'a');
    // stdout carries the stdout output's json_lines: not needed here.
    const env = { ...process.env, NODE_NAME: 'pipeline-test' };
    // In a cgroup: a shell joins it, then becomes Fluent Bit (exec), so every thread is limited from the start.
    this.child = this.cgroup
      ? track(spawn('/bin/sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "$3"', 'sh', this.cgroup, this.bin, this.configFile], { stdio: ['ignore', 'ignore', out], env }))
      : track(spawn(this.bin, ['-c', this.configFile], { stdio: ['ignore', 'ignore', out], env }));
    fs.closeSync(out);
    this.starts++;
    this.startedAt = performance.now();
    this.cpuCurrent = 0;
    const pid = this.child.pid;
    this.usageTimer = setInterval(() => this.sampleUsage(pid), 100);
  }

  /** The sidecar's CPU use so far, in cores (CPU seconds per wall second while it ran). */
  get cpuCores(): number {
    const wall = this.wallDone + (this.child ? (performance.now() - this.startedAt) / 1000 : 0);
    return wall > 0 ? (this.cpuDone + this.cpuCurrent) / wall : 0;
  }

  /** Reads the sidecar's CPU time so far and its peak RSS (VmHWM) from /proc. */
  private sampleUsage(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      // /proc/<pid>/stat: utime and stime (fields 14 and 15) in clock ticks of USER_HZ, 100 on Linux.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      this.cpuCurrent = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone
    }
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (hwm) this.peakRssBytes = Math.max(this.peakRssBytes, Number(hwm[1]) * 1024);
    } catch {
      // gone
    }
  }

  /** Sends a signal and waits for the exit (SIGTERM: Fluent Bit flushes for up to its Grace). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.sampleUsage(child.pid);
    if (this.usageTimer) clearInterval(this.usageTimer);
    this.cpuDone += this.cpuCurrent;
    this.cpuCurrent = 0;
    this.wallDone += (performance.now() - this.startedAt) / 1000;
    child.kill(signal);
    await Promise.race([exited(child), sleep(timeoutMs)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    this.child = null;
  }

  /** Lines of its log with `[error]` or `[ warn]`. */
  problems(): string[] {
    if (!fs.existsSync(this.logFile)) return [];
    return fs
      .readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => /\[(error|\s?warn)\]/.test(l));
  }
}

// ---------------------------------------------------------------- the app

export class Writer {
  private stdout = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
  }

  static start(plan: WriterPlan): Writer {
    return new Writer(track(spawn(process.execPath, [writerScript, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] })));
  }

  get done(): boolean {
    return /"written":/.test(this.stdout);
  }

  async waitDone(timeoutMs: number): Promise<void> {
    await waitFor('the writer to finish its records', () => this.done, timeoutMs, 50);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
  }

  /** SIGTERM: the logger closes; its final stats. */
  async stop(): Promise<Record<string, number>> {
    this.child.kill('SIGTERM');
    await exited(this.child);
    const line = this.stdout.split('\n').find((l) => l.startsWith('{"stats"'));
    return line ? (JSON.parse(line) as { stats: Record<string, number> }).stats : {};
  }
}

// ---------------------------------------------------------------- a whole pipeline

export interface Pipeline {
  readonly dir: string;
  readonly settings: LogSettings;
  readonly sidecar: Sidecar;
  readonly door: LokiDoor;
  readonly loki: Loki;
  close(): Promise<void>;
}

/** A fresh log directory and sidecar in front of a running Loki (one Loki serves several pipelines). */
export async function startPipeline(binaries: Binaries, loki: Loki, workDir: string, rotation: LogSettings['rotation']): Promise<Pipeline> {
  const version = /fluent-bit-(\d+\.\d+)\.\d+$/.exec(binaries.fluentBit)?.[1];
  const dir = path.join(workDir, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const settings: LogSettings = { ...defaultLogSettings, dir, rotation };
  const door = await LokiDoor.start(loki);
  // The config targets the binary's version when its name says it (fluent-bit-4.2.8), else the default.
  const sidecar = new Sidecar(binaries.fluentBit, workDir, binaries.sidecarCgroup, settings, door.port, await freePort(), await freePort(), version);
  return {
    dir,
    settings,
    sidecar,
    door,
    loki,
    async close() {
      await sidecar.stop('SIGKILL');
      await door.stop();
    },
  };
}

export function tempWorkDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pipeline-${name}-`));
}

export interface RunCount {
  records: number;
  delivered: number;
  lost: number;
  /** Deliveries Loki acknowledged beyond the first of a record (at-least-once after a sidecar kill). */
  duplicated: number;
  /** Pushes Loki answered with an error (e.g. a 500 after a timeout under load); Fluent Bit retries them, and Loki may have stored them already. */
  rejectedPushes: number;
  fragments: number;
  /** Distinct records of the run a LogQL log query finds in Loki, and the entries it returns in all (duplicates included). */
  lokiDistinct: number;
  lokiEntries: number;
  /** sum(count_over_time(...)) for the run. */
  lokiCount: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Counts a run at Loki's door and in Loki itself (LogQL). `fromMs`: when the run started. */
export async function countRun(p: Pipeline, run: string, records: number, fromMs: number): Promise<RunCount> {
  const arrivals = p.door.arrivals.get(run) ?? [];
  const first = new Map<number, Arrival>();
  for (const a of arrivals) if (!first.has(a.seq) || first.get(a.seq)!.arrivalMs > a.arrivalMs) first.set(a.seq, a);
  const latencies = [...first.values()].map((a) => a.arrivalMs - a.timeMs).sort((a, b) => a - b);
  const selector = `{job="${defaultLogSettings.service}"} |= "${run}"`;
  const now = Date.now();
  const lines = await p.loki.lines(selector, fromMs - 60_000, now + 60_000);
  const inLoki = new Set<number>();
  const bySeq = new Map<number, typeof lines>();
  for (const l of lines) {
    const r = JSON.parse(l.line) as { seq?: number; run?: string };
    if (r.run === run && typeof r.seq === 'number') {
      inLoki.add(r.seq);
      bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), l]);
    }
  }
  if (process.env.PIPELINE_DEBUG) {
    const dup = [...bySeq.values()].find((v) => v.length > 1);
    if (dup) process.stderr.write(`duplicate in Loki: ${JSON.stringify(dup, null, 1)}\n`);
  }
  const lokiCount = await p.loki.count(`sum(count_over_time(${selector} [${Math.ceil((now - fromMs) / 1000) + 120}s]))`, now + 60_000);
  return {
    records,
    delivered: first.size,
    lost: records - [...first.keys()].filter((s) => s >= 0 && s < records).length,
    duplicated: arrivals.length - first.size,
    rejectedPushes: p.door.rejectedPushes,
    fragments: p.door.fragments.length,
    lokiDistinct: inLoki.size,
    lokiEntries: lines.length,
    lokiCount,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
