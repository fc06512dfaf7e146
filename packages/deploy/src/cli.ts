#!/usr/bin/env node
/**
 * deploy-config generate|check [--dir DIR]: the observability ConfigMaps in k8s/ from deploy/.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describeDrift, findDrift, findRepositoryRoot, writeFiles } from '@guitar-backend/fluent-config';
import { renderConfigMaps } from './configmaps.js';

const USAGE = 'Usage: deploy-config generate|check [--dir DIR]   (DIR: the repository root, found from the working directory by default)\n';

export function runCli(argv: string[], io: { out: (t: string) => void; err: (t: string) => void; cwd: string }): number {
  let values: { dir?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { dir: { type: 'string' } } }));
  } catch (err) {
    io.err(`deploy-config: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const root = path.resolve(io.cwd, values.dir ?? findRepositoryRoot(io.cwd));
  const [command, ...extra] = positionals;
  if (extra.length > 0 || (command !== 'generate' && command !== 'check')) {
    io.err(`deploy-config: ${command ? `unknown command '${[command, ...extra].join(' ')}'` : 'a command is required'}\n${USAGE}`);
    return 2;
  }
  let files;
  try {
    files = renderConfigMaps(root);
  } catch (err) {
    io.err(`deploy-config: cannot read a source file: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (command === 'generate') {
    for (const file of writeFiles(root, files)) io.out(`wrote ${path.relative(io.cwd, file) || file}\n`);
    return 0;
  }
  const drift = findDrift(root, files);
  if (drift.length === 0) {
    io.out('deploy-config: generated ConfigMaps are up to date\n');
    return 0;
  }
  io.err(describeDrift(drift));
  io.err('deploy-config: ConfigMaps drifted from deploy/; run `pnpm deploy-config generate` (never edit them by hand)\n');
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = runCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd() });
}
