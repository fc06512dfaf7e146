import path from 'node:path';
import { DEFAULT_SENSITIVE_KEYS, SIDECAR_STORAGE_DIR, SIDECAR_TAIL_DB, defaultLogSettings, type LogSettings } from '@guitar-backend/logger';
import { prop, type PipelineModel, type PluginSection, type Property } from './model.js';
import { DEFAULT_VERSION } from './plugins/index.js';
import { secondsNanoseconds } from './seconds-nanoseconds.js';

/** What differs between deployments; everything about the log itself comes from LogSettings. */
export interface DeploymentOptions {
  /** Fluent Bit version the config targets (`major.minor`): the image tag pinned in the deployment. */
  fluentBitVersion: string;
  /** `service` added to records that lack one; the `job` label in Loki. */
  serviceName: string;
  cluster: string;
  /** `env` label in Loki. */
  environment: string;
  /** Where the node name comes from: an environment variable the container sets (k8s downward API), or a fixed value. */
  node: { fromEnv: string } | { value: string };
  /** Directory the config is mounted at in the Fluent Bit container. */
  configDir: string;
  flushSeconds: number;
  /** Seconds Fluent Bit keeps flushing after SIGTERM: must be below the pod's terminationGracePeriodSeconds. */
  graceSeconds: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Fluent Bit's HTTP server: /api/v1/uptime (the probes), /api/v1/metrics/prometheus. */
  httpPort: number;
  /** Memory the tail input may hold before it pauses reading, should it buffer in memory (it buffers on the filesystem, where this does not apply). */
  tailMemBufLimit: string;
  /**
   * Chunks (≤ 2 MB each) held in memory at once; the tail input pauses at this many and resumes
   * from its DB offsets: the bound on the sidecar's buffer memory.
   */
  storageMaxChunksUp: number;
  /** Disk the loki output's queued chunks may take on the shared volume; past it the oldest chunk is dropped. */
  lokiStorageLimit: string;
  /** Seconds between scans for new files: a freshly rotated file waits up to this long to be read. */
  refreshIntervalSeconds: number;
  outputs: OutputOptions;
}

export interface LokiOptions {
  host: string;
  port: number;
  tenantId?: string;
  /** Static labels besides job and env. Keep them low-cardinality. */
  extraLabels?: Record<string, string>;
  /** Record keys sent as Loki structured metadata (indexed per line, not per stream); they leave the JSON line. */
  structuredMetadata: string[];
  tls?: boolean;
}

export interface OutputOptions {
  loki: LokiOptions | null;
  /** Port of the prometheus_exporter output fed by the fluentbit_metrics input, or null. */
  prometheusExporterPort: number | null;
  stdout: boolean;
  elasticsearch?: { host: string; port: number; index: string; tls?: boolean } | null;
  opensearch?: { host: string; port: number; index: string; tls?: boolean } | null;
  http?: { host: string; port: number; uri: string; tls?: boolean } | null;
  file?: { path: string; file: string } | null;
  cloudwatchLogs?: { region: string; logGroupName: string; logStreamPrefix: string } | null;
}

/** Tag of the records read from the logger's files. */
export const LOG_TAG = 'guitar-backend.app';
/** Tag of Fluent Bit's own metrics records. */
export const METRICS_TAG = 'fluentbit.metrics';
export const PARSER_NAME = 'guitar-backend-json';
/**
 * The tail input's position database, on the shared volume; no trailing digits, so pino-roll never
 * takes it for a log file. The logger's retention reads it to know what the sidecar has finished.
 */
export const TAIL_DB_FILE = SIDECAR_TAIL_DB;

/**
 * Fields the loki output may use as labels, each with fixed values per sidecar: `pod` is the pod's
 * name (${HOSTNAME}). A label taken from the record (`level=$level`) is refused: Fluent Bit then
 * sends one stream per record, and Loki answers a push with the last stream's error only.
 */
export const LOW_CARDINALITY_LABELS = ['job', 'env', 'pod', 'cluster', 'service', 'module'] as const;

/**
 * Disk the loki output's queued chunks may take (storage.total_limit_size): a 2-hour Loki outage
 * at the busiest measured log rate, 19.5 KB/s (one worker analysing short recordings back to back,
 * 141 MB in 2 h), with room for the chunk format. Past it Fluent Bit drops the oldest chunks.
 */
export const LOKI_BUFFER_LIMIT = '256M';

function lokiOutput(loki: LokiOptions, options: DeploymentOptions, settings: LogSettings): PluginSection {
  // One stream per pod: static labels only, so a push is one stream and a refusal is its answer.
  const labels = [
    `job=${options.serviceName}`,
    `env=${options.environment}`,
    'pod=${HOSTNAME}',
    ...Object.entries(loki.extraLabels ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  const metadata = [settings.levelKey, ...loki.structuredMetadata];
  const properties: Property[] = [
    prop('Match', LOG_TAG),
    prop('Host', loki.host),
    prop('Port', loki.port),
    prop('Labels', labels.join(', ')),
    prop('Structured_Metadata', metadata.map((k) => `${k}=$${k}`).join(', ')),
    prop('Line_Format', 'json'),
    prop('Retry_Limit', 'no_limits'),
    prop('storage.total_limit_size', options.lokiStorageLimit),
  ];
  if (loki.tenantId) properties.push(prop('Tenant_ID', loki.tenantId));
  if (loki.tls) properties.push(prop('tls', true), prop('tls.verify', true));
  return { kind: 'output', plugin: 'loki', properties };
}

function optionalOutputs(o: OutputOptions): PluginSection[] {
  const out: PluginSection[] = [];
  const search = (plugin: 'es' | 'opensearch', c: { host: string; port: number; index: string; tls?: boolean }): PluginSection => ({
    kind: 'output',
    plugin,
    properties: [
      prop('Match', LOG_TAG),
      prop('Host', c.host),
      prop('Port', c.port),
      prop('Index', c.index),
      prop('Suppress_Type_Name', true),
      prop('Trace_Error', true),
      prop('Retry_Limit', 'no_limits'),
      ...(c.tls ? [prop('tls', true)] : []),
    ],
  });
  if (o.elasticsearch) out.push(search('es', o.elasticsearch));
  if (o.opensearch) out.push(search('opensearch', o.opensearch));
  if (o.http) {
    out.push({
      kind: 'output',
      plugin: 'http',
      properties: [
        prop('Match', LOG_TAG),
        prop('Host', o.http.host),
        prop('Port', o.http.port),
        prop('URI', o.http.uri),
        prop('Format', 'json_lines'),
        prop('Json_Date_Format', 'iso8601'),
        prop('Retry_Limit', 'no_limits'),
        ...(o.http.tls ? [prop('tls', true)] : []),
      ],
    });
  }
  if (o.file) {
    out.push({ kind: 'output', plugin: 'file', properties: [prop('Match', LOG_TAG), prop('Path', o.file.path), prop('File', o.file.file), prop('Mkdir', true)] });
  }
  if (o.cloudwatchLogs) {
    out.push({
      kind: 'output',
      plugin: 'cloudwatch_logs',
      properties: [
        prop('Match', LOG_TAG),
        prop('Region', o.cloudwatchLogs.region),
        prop('Log_Group_Name', o.cloudwatchLogs.logGroupName),
        prop('Log_Stream_Prefix', o.cloudwatchLogs.logStreamPrefix),
        prop('Auto_Create_Group', true),
      ],
    });
  }
  return out;
}

/** The pipeline that reads exactly what the logger described by `settings` writes. */
export function buildPipeline(settings: LogSettings, options: DeploymentOptions): PipelineModel {
  const dir = settings.dir;
  const joined = (name: string): string => path.posix.join(dir, name);
  // Generous buffers: the longest line fits with room to spare, and Max ≥ Chunk.
  const chunk = Math.max(32 * 1024, settings.maxLineBytes * 2);
  const max = chunk * 4;
  const nodeValue = 'fromEnv' in options.node ? `\${${options.node.fromEnv}}` : options.node.value;

  const service: Property[] = [
    prop('Flush', options.flushSeconds),
    prop('Grace', options.graceSeconds),
    prop('Daemon', false),
    prop('Log_Level', options.logLevel),
    prop('Parsers_File', path.posix.join(options.configDir, 'parsers.conf')),
    prop('HTTP_Server', true),
    prop('HTTP_Listen', '0.0.0.0'),
    prop('HTTP_Port', options.httpPort),
    // Off: its errors-per-period health turned 500 on a few lines Loki refused, and probes on it
    // took the pod out of its Service and restarted a sidecar that was still buffering. The probes
    // use /api/v1/uptime; a stuck pipeline is caught by alerts (deploy/prometheus/rules.yml).
    prop('Health_Check', false),
    // Retries of a failed flush back off up to 60 s (default 2000 s): after an outage the backlog
    // ships within a minute, well inside Loki's out-of-order window.
    prop('scheduler.cap', 60),
    // Filesystem buffering on the shared volume: what was read survives a sidecar kill.
    prop('storage.path', joined(SIDECAR_STORAGE_DIR)),
    prop('storage.sync', 'normal'),
    prop('storage.max_chunks_up', options.storageMaxChunksUp),
    prop('storage.backlog.mem_limit', '4M'),
    prop('storage.metrics', true),
  ];

  const parser = {
    name: PARSER_NAME,
    properties: [
      prop('Format', 'json'),
      prop('Time_Key', settings.timeKey),
      prop('Time_Format', settings.time.strftime),
      prop('Time_Keep', true),
    ],
  };

  const inputs: PluginSection[] = [
    {
      kind: 'input',
      plugin: 'tail',
      properties: [
        prop('Tag', LOG_TAG),
        prop('Path', joined(settings.file.glob)),
        // The glob already matches only the logger's files; these keep anything else out should it appear.
        prop('Exclude_Path', ['current.log', '*.db', '*.db-*', '*.gz'].map(joined).join(',')),
        prop('Parser', PARSER_NAME),
        prop('DB', joined(TAIL_DB_FILE)),
        prop('DB.locking', true),
        // The logger reads the DB as a byte copy (sql.js): offsets must be in the main file, not a -wal.
        prop('DB.journal_mode', 'delete'),
        prop('Read_from_Head', true),
        prop('storage.type', 'filesystem'),
        prop('storage.pause_on_chunks_overlimit', true),
        prop('Mem_Buf_Limit', options.tailMemBufLimit),
        prop('Skip_Long_Lines', true),
        prop('Refresh_Interval', secondsNanoseconds(options.refreshIntervalSeconds)),
        prop('Rotate_Wait', 15),
        prop('Buffer_Chunk_Size', `${chunk / 1024}k`),
        prop('Buffer_Max_Size', `${max / 1024}k`),
      ],
    },
  ];
  if (options.outputs.prometheusExporterPort !== null) {
    inputs.push({ kind: 'input', plugin: 'fluentbit_metrics', properties: [prop('Tag', METRICS_TAG), prop('Scrape_Interval', '15s'), prop('Scrape_On_Start', true)] });
  }

  const filters: PluginSection[] = [
    {
      kind: 'filter',
      plugin: 'record_modifier',
      properties: [prop('Match', LOG_TAG), prop('Record', `cluster ${options.cluster}`), prop('Record', `node ${nodeValue}`)],
    },
    {
      kind: 'filter',
      plugin: 'modify',
      properties: [
        prop('Match', LOG_TAG),
        // modify's Add sets the key only when the record lacks it: the logger's own `service` stays, once.
        prop('Add', `service ${options.serviceName}`),
        ...DEFAULT_SENSITIVE_KEYS.map((k) => prop('Remove', k)),
      ],
    },
  ];

  const outputs: PluginSection[] = [];
  if (options.outputs.loki) outputs.push(lokiOutput(options.outputs.loki, options, settings));
  if (options.outputs.prometheusExporterPort !== null) {
    outputs.push({
      kind: 'output',
      plugin: 'prometheus_exporter',
      properties: [prop('Match', METRICS_TAG), prop('Host', '0.0.0.0'), prop('Port', options.outputs.prometheusExporterPort), prop('Add_Label', `service ${options.serviceName}`)],
    });
  }
  if (options.outputs.stdout) outputs.push({ kind: 'output', plugin: 'stdout', properties: [prop('Match', LOG_TAG), prop('Format', 'json_lines')] });
  outputs.push(...optionalOutputs(options.outputs));

  return {
    version: options.fluentBitVersion,
    service,
    parsers: [parser],
    inputs,
    filters,
    outputs,
    environment: ['HOSTNAME', ...('fromEnv' in options.node ? [options.node.fromEnv] : [])],
    parsersFile: path.posix.join(options.configDir, 'parsers.conf'),
  };
}

/** Options common to both variants. */
function baseOptions(): DeploymentOptions {
  return {
    fluentBitVersion: DEFAULT_VERSION,
    serviceName: defaultLogSettings.service,
    cluster: 'k3s',
    environment: 'production',
    node: { fromEnv: 'NODE_NAME' },
    configDir: '/fluent-bit/etc',
    flushSeconds: 0.2,
    graceSeconds: 10,
    logLevel: 'info',
    httpPort: 2020,
    tailMemBufLimit: '16MB',
    storageMaxChunksUp: 8,
    lokiStorageLimit: LOKI_BUFFER_LIMIT,
    refreshIntervalSeconds: 0.5,
    outputs: {
      loki: { host: 'loki', port: 3100, structuredMetadata: ['request_id', 'instance_id'] },
      prometheusExporterPort: 2021,
      stdout: true,
    },
  };
}

/** The Kubernetes pod: NODE_NAME comes from the downward API (spec.nodeName). */
export function kubernetesOptions(overrides: Partial<DeploymentOptions> = {}): DeploymentOptions {
  return { ...baseOptions(), ...overrides };
}

/** The docker-compose pod simulation: NODE_NAME is set in docker-compose.yml. */
export function composeOptions(overrides: Partial<DeploymentOptions> = {}): DeploymentOptions {
  return { ...baseOptions(), cluster: 'docker-compose', environment: 'local', ...overrides };
}
