import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseStrict, readRepo } from './helpers.js';

/**
 * The project's own config files, rewritten for a run on one machine without a container engine:
 * only paths, hosts and ports change (and, where a test says so, durations), every change checked
 * to have happened so a renamed key cannot slip through unchanged.
 */

export interface StackPorts {
  app: number;
  lokiHttp: number;
  lokiGrpc: number;
  fluentBitHttp: number;
  fluentBitMetrics: number;
  prometheus: number;
}

function replaceOnce(text: string, from: string | RegExp, to: string, file: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`${file}: '${String(from)}' is not there to rewrite`);
  return text.replace(from, to);
}

/** deploy/loki/loki.yaml with its /loki paths under `dataDir`, its ports, and `overrides` (dotted keys). */
export function lokiConfig(dataDir: string, ports: StackPorts, overrides: Record<string, string> = {}): string {
  const config = parseStrict(readRepo('deploy/loki/loki.yaml'), 'loki.yaml') as Record<string, any>;
  const moved = (node: unknown): unknown => {
    if (typeof node === 'string') return node === '/loki' || node.startsWith('/loki/') ? path.join(dataDir, node.slice('/loki'.length)) : node;
    if (Array.isArray(node)) return node.map(moved);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, moved(v)]));
    return node;
  };
  const out = moved(config) as Record<string, any>;
  out.server.http_listen_port = ports.lokiHttp;
  out.server.grpc_listen_port = ports.lokiGrpc;
  out.server.http_listen_address = '127.0.0.1';
  out.server.grpc_listen_address = '127.0.0.1';
  for (const [dotted, value] of Object.entries(overrides)) {
    const keys = dotted.split('.');
    const parent = keys.slice(0, -1).reduce((node, key) => node[key], out);
    if (!(keys.at(-1)! in parent)) throw new Error(`loki.yaml has no ${dotted} to override`);
    parent[keys.at(-1)!] = value;
  }
  return stringify(out);
}

/**
 * deploy/prometheus/prometheus-compose.yml with the compose hosts replaced by 127.0.0.1 ports and
 * the rules file's path; the scrape and evaluation intervals go from 15 s to `intervalSeconds`, so a
 * test waits seconds, not minutes, for a scrape.
 */
export function prometheusConfig(rulesFile: string, ports: StackPorts, intervalSeconds: number): string {
  const file = 'prometheus-compose.yml';
  let text = readRepo(`deploy/prometheus/${file}`);
  text = replaceOnce(text, '[pod:8000]', `['127.0.0.1:${ports.app}']`, file);
  text = replaceOnce(text, '[pod:2021]', `['127.0.0.1:${ports.fluentBitMetrics}']`, file);
  text = replaceOnce(text, '[loki:3100]', `['127.0.0.1:${ports.lokiHttp}']`, file);
  text = replaceOnce(text, '[localhost:9090]', `['127.0.0.1:${ports.prometheus}']`, file);
  text = replaceOnce(text, '/etc/prometheus/rules.yml', rulesFile, file);
  text = replaceOnce(text, /scrape_interval: 15s/, `scrape_interval: ${intervalSeconds}s`, file);
  text = replaceOnce(text, /evaluation_interval: 15s/, `evaluation_interval: ${intervalSeconds}s`, file);
  return text;
}

/**
 * The generated compose config (deploy/fluent-bit/fluent-bit.conf and parsers.conf) written to
 * `configDir`, reading `logDir`, shipping to Loki on 127.0.0.1, serving on 127.0.0.1 ports.
 * `schedulerCapSeconds` shortens the retry backoff's cap for a shortened outage.
 */
export function writeFluentBitConfig(configDir: string, logDir: string, ports: StackPorts, schedulerCapSeconds?: number): string {
  const file = 'fluent-bit.conf';
  let text = readRepo(`deploy/fluent-bit/${file}`);
  text = text.replaceAll('/fluent-bit/etc/', `${configDir}/`);
  text = replaceOnce(text, /\/var\/log\/guitar-backend/, logDir, file).replaceAll('/var/log/guitar-backend', logDir);
  text = replaceOnce(text, /(HTTP_Listen\s+)0\.0\.0\.0/, '$1127.0.0.1', file);
  text = replaceOnce(text, /(HTTP_Port\s+)2020\b/, `$1${ports.fluentBitHttp}`, file);
  text = replaceOnce(text, /(Name\s+loki\n(?:.*\n)*?\s+Host\s+)loki\n/, '$1127.0.0.1\n', file);
  text = replaceOnce(text, /(Name\s+loki\n(?:.*\n)*?\s+Port\s+)3100\n/, `$1${ports.lokiHttp}\n`, file);
  text = replaceOnce(text, /(Name\s+prometheus_exporter\n(?:.*\n)*?\s+Host\s+)0\.0\.0\.0\n/, '$1127.0.0.1\n', file);
  text = replaceOnce(text, /(Name\s+prometheus_exporter\n(?:.*\n)*?\s+Port\s+)2021\n/, `$1${ports.fluentBitMetrics}\n`, file);
  if (schedulerCapSeconds !== undefined) {
    text = replaceOnce(text, /(scheduler\.cap\s+)\d+/, `$1${schedulerCapSeconds}`, file);
    // The default base (5 s) must stay below the cap.
    text = replaceOnce(text, /(scheduler\.cap.*\n)/, `$1    scheduler.base ${Math.min(5, Math.max(1, Math.floor(schedulerCapSeconds / 3)))}\n`, file);
  }
  if (/\b(loki|pod):\d|0\.0\.0\.0|\/var\/log\/guitar-backend|\/fluent-bit\/etc/.test(text)) throw new Error(`${file}: a compose path or host is left:\n${text}`);
  fs.writeFileSync(path.join(configDir, 'parsers.conf'), readRepo('deploy/fluent-bit/parsers.conf'));
  const target = path.join(configDir, file);
  fs.writeFileSync(target, text);
  return target;
}
