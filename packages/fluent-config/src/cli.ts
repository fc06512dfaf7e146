#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describeDrift, findDrift, writeFiles } from './drift.js';
import type { DeploymentOptions } from './from-settings.js';
import { generateFiles, renderKubernetesConfigMap, renderVariant, type GenerateOptions, type Variant } from './layout.js';
import { ConfigValidationError } from './validate.js';

const USAGE = `Usage: fluent-config <command> [options]

Commands:
  generate [--out DIR]    write the compose configs and the Kubernetes ConfigMap under DIR
                          (default: the repository root)
  check [--dir DIR]       exit 1 and show a diff when the committed files differ from what
                          would be generated now
  print [--variant k8s|compose] [--format classic|parsers|yaml|configmap]
                          write one rendering to stdout

Options for every command (the committed files use the defaults):
  --fluent-bit-version V  target Fluent Bit version, major.minor (default 5.1)
  --loki-host HOST        Loki host (default loki)
  --loki-port PORT        Loki port (default 3100)
  --environment NAME      env label (default production, local for compose)
  --cluster NAME          cluster field added to every record
  --no-stdout             leave out the stdout output
  -h, --help              this text
`;

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
}

/** The nearest directory at or above `from` holding pnpm-workspace.yaml, else `from`. */
export function findRepositoryRoot(from: string): string {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(from);
    dir = parent;
  }
}

function deploymentOverrides(values: Record<string, string | boolean | undefined>): Partial<DeploymentOptions> {
  const o: Partial<DeploymentOptions> = {};
  if (typeof values['fluent-bit-version'] === 'string') o.fluentBitVersion = values['fluent-bit-version'];
  if (typeof values.environment === 'string') o.environment = values.environment;
  if (typeof values.cluster === 'string') o.cluster = values.cluster;
  return o;
}

function generateOptions(values: Record<string, string | boolean | undefined>): GenerateOptions {
  const shared = deploymentOverrides(values);
  const lokiHost = values['loki-host'];
  const lokiPortRaw = values['loki-port'];
  let lokiPort: number | undefined;
  if (typeof lokiPortRaw === 'string') {
    lokiPort = Number(lokiPortRaw);
    if (!Number.isInteger(lokiPort) || lokiPort < 1 || lokiPort > 65535) throw new UsageError(`--loki-port must be a port number (1-65535), got '${lokiPortRaw}'`);
  }
  const apply = (base: Partial<DeploymentOptions>): Partial<DeploymentOptions> => {
    const result: Partial<DeploymentOptions> = { ...base };
    if (lokiHost !== undefined || lokiPort !== undefined || values['no-stdout'] === true) {
      result.outputs = {
        loki: { host: typeof lokiHost === 'string' ? lokiHost : 'loki', port: lokiPort ?? 3100, structuredMetadata: ['request_id', 'instance_id'] },
        prometheusExporterPort: 2021,
        stdout: values['no-stdout'] !== true,
      };
    }
    return result;
  };
  return { k8s: apply(shared), compose: apply(shared) };
}

/** Runs the CLI; returns the exit code. */
export function runCli(argv: string[], io: Io): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        dir: { type: 'string' },
        variant: { type: 'string' },
        format: { type: 'string' },
        'fluent-bit-version': { type: 'string' },
        'loki-host': { type: 'string' },
        'loki-port': { type: 'string' },
        environment: { type: 'string' },
        cluster: { type: 'string' },
        'no-stdout': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`fluent-config: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  try {
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    const options = generateOptions(values);
    switch (command) {
      case 'generate': {
        const root = path.resolve(io.cwd, values.out ?? findRepositoryRoot(io.cwd));
        for (const file of writeFiles(root, generateFiles(options))) io.out(`wrote ${path.relative(io.cwd, file) || file}\n`);
        return 0;
      }
      case 'check': {
        const root = path.resolve(io.cwd, values.dir ?? findRepositoryRoot(io.cwd));
        const drift = findDrift(root, generateFiles(options));
        if (drift.length === 0) {
          io.out('fluent-config: generated files are up to date\n');
          return 0;
        }
        io.err(describeDrift(drift));
        io.err('fluent-config: generated files drifted; run `pnpm fluent-config generate` (never edit them by hand)\n');
        return 1;
      }
      case 'print': {
        const variant = (values.variant ?? 'k8s') as Variant;
        if (variant !== 'k8s' && variant !== 'compose') throw new UsageError(`--variant must be k8s or compose, got '${variant}'`);
        const format = values.format ?? 'classic';
        if (format === 'configmap') {
          if (variant !== 'k8s') throw new UsageError('--format configmap is only for --variant k8s');
          io.out(renderKubernetesConfigMap(options));
          return 0;
        }
        const rendered = renderVariant(variant, options);
        if (format === 'classic') io.out(rendered.classic);
        else if (format === 'parsers') io.out(rendered.parsers);
        else if (format === 'yaml') io.out(rendered.yaml);
        else throw new UsageError(`--format must be classic, parsers, yaml or configmap, got '${format}'`);
        return 0;
      }
      case undefined:
        throw new UsageError('a command is required');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`fluent-config: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigValidationError) {
      io.err(`fluent-config: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = runCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  });
}
