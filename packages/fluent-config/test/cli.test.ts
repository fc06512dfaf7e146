import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../src/cli.js';
import { CONFIGMAP_FILE, COMPOSE_CONFIG_DIR } from '../src/index.js';
import { repoRoot } from './helpers.js';

function run(args: string[], cwd = repoRoot): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { out: (t) => (out += t), err: (t) => (err += t), cwd });
  return { code, out, err };
}

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'fluent-config-cli-'));

test('the committed generated files are what the generator writes now', () => {
  const r = run(['check']);
  assert.equal(r.code, 0, r.err);
});

test('generate --out writes the compose configs and the ConfigMap; check then passes', () => {
  const dir = tempDir();
  const g = run(['generate', '--out', dir]);
  assert.equal(g.code, 0, g.err);
  for (const f of [`${COMPOSE_CONFIG_DIR}/fluent-bit.conf`, `${COMPOSE_CONFIG_DIR}/parsers.conf`, `${COMPOSE_CONFIG_DIR}/fluent-bit.yaml`, CONFIGMAP_FILE]) {
    assert.ok(fs.statSync(path.join(dir, f)).size > 100, f);
  }
  assert.equal(run(['check', '--dir', dir]).code, 0);
});

test('check fails with a diff when a generated file was edited by hand, and when one is missing', () => {
  const dir = tempDir();
  run(['generate', '--out', dir]);
  const conf = path.join(dir, COMPOSE_CONFIG_DIR, 'fluent-bit.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replace(/^(\s+Read_from_Head\s+)On$/m, '$1Off'));
  const edited = run(['check', '--dir', dir]);
  assert.equal(edited.code, 1);
  assert.match(edited.err, /deploy\/fluent-bit\/fluent-bit.conf: differs from what would be generated now/);
  assert.match(edited.err, /^-\s+Read_from_Head\s+Off$/m);
  assert.match(edited.err, /^\+\s+Read_from_Head\s+On$/m);
  fs.rmSync(path.join(dir, CONFIGMAP_FILE));
  const missing = run(['check', '--dir', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /k8s\/05-fluent-bit-configmap.yaml: missing/);
});

test('print writes each rendering to stdout', () => {
  assert.match(run(['print']).out, /^\[INPUT\]\n\s+Name\s+tail$/m);
  assert.match(run(['print', '--format', 'yaml', '--variant', 'compose']).out, /cluster docker-compose/);
  assert.match(run(['print', '--format', 'parsers']).out, /Time_Format %Y-%m-%dT%H:%M:%S\.%L%z/);
  assert.match(run(['print', '--format', 'configmap']).out, /kind: ConfigMap/);
  assert.match(run(['print', '--loki-host', 'logs.example', '--loki-port', '443']).out, /Host\s+logs\.example\n\s+Port\s+443/);
  assert.doesNotMatch(run(['print', '--no-stdout']).out, /Name\s+stdout/);
});

test('bad commands and options exit 2 with a message and the usage; an invalid target exits 1 naming the problem', () => {
  for (const [args, message] of [
    [[], /a command is required/],
    [['frob'], /unknown command 'frob'/],
    [['print', '--colour'], /Unknown option '--colour'/],
    [['print', '--variant', 'swarm'], /--variant must be k8s or compose, got 'swarm'/],
    [['print', '--format', 'toml'], /--format must be classic, parsers, yaml or configmap, got 'toml'/],
    [['print', '--loki-port', 'http'], /--loki-port must be a port number/],
    [['print', '--variant', 'compose', '--format', 'configmap'], /only for --variant k8s/],
    [['generate', 'extra'], /unexpected argument 'extra'/],
  ] as Array<[string[], RegExp]>) {
    const r = run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, message);
    assert.match(r.err, /Usage: fluent-config/);
  }
  const old = run(['print', '--fluent-bit-version', '3.0']);
  assert.equal(old.code, 1);
  assert.match(old.err, /Structured_Metadata' needs Fluent Bit ≥ 3.1; the target is 3.0/);
  assert.equal(run(['--help']).code, 0);
});
