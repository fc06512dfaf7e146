import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withApp } from './app-process.js';
import { CONTAINER_LOG_DIR } from '@guitar-backend/logger';
import { find, loadK8s, parseStrict, readRepo, repoRoot } from './helpers.js';

/** The Dockerfile as instructions (continuation lines joined). */
const instructions = readRepo('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => ({ op: l.split(/\s+/)[0]?.toUpperCase() ?? '', args: l.slice(l.indexOf(' ') + 1).trim() }));
const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
const rootPackage = JSON.parse(readRepo('package.json')) as { packageManager: string };
const app = find(loadK8s(), 'Deployment', 'guitar-backend') as any;
const compose = parseStrict(readRepo('docker-compose.yml'), 'docker-compose.yml') as any;

test('multi-stage on a pinned Node 20 slim base; pnpm pinned as the workspace pins it; production dependencies only', () => {
  const base = /^NODE_IMAGE=(\S+)$/.exec(all('ARG')[0] ?? '')?.[1] ?? '';
  assert.match(base, /^node:20\.\d+\.\d+-\S*slim$/);
  assert.deepEqual(all('FROM'), ['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
  assert.ok(all('RUN').some((r) => r.includes(`npm install --global ${rootPackage.packageManager}`)));
  assert.ok(all('RUN').some((r) => /pnpm install --frozen-lockfile/.test(r)));
  assert.ok(all('RUN').some((r) => /pnpm --filter @guitar-backend\/app deploy --prod --config\.inject-workspace-packages=true /.test(r)), 'deploy from the workspace lockfile, as the test below does');
});

test('a fixed non-root numeric user owns the log directory; k8s and compose run as the same ids', () => {
  const user = all('USER').at(-1);
  assert.equal(user, '10001:10001');
  const env = all('ENV').join(' ');
  assert.match(env, new RegExp(`LOG_DIR=${CONTAINER_LOG_DIR}`));
  assert.ok(all('RUN').some((r) => r.includes(`chown 10001:10001 ${CONTAINER_LOG_DIR}`)));
  const appContainer = app.spec.template.spec.containers.find((c: any) => c.name === 'app');
  assert.equal(`${appContainer.securityContext.runAsUser}:${appContainer.securityContext.runAsGroup}`, user);
  assert.equal(compose.services.app.user, user);
});

test('HEALTHCHECK asks /api/health on the port the service listens on; EXPOSE matches', () => {
  const health = all('HEALTHCHECK')[0] ?? '';
  assert.match(health, /\/api\/health/);
  assert.match(health, /process\.env\.PORT \|\| 8000/);
  assert.deepEqual(all('EXPOSE'), ['8000']);
  assert.match(all('ENV').join(' '), /PORT=8000/);
  assert.deepEqual(all('CMD').at(-1), '["node", "--expose-gc", "dist/src/main.js"]');
});

test('what the Dockerfile copies into the image (pnpm deploy --prod) runs on its own and answers its HEALTHCHECK', { timeout: 180_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'image-'));
  const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npx', '--yes', rootPackage.packageManager];
  const deploy = spawnSync(pnpm[0] ?? 'npx', [...pnpm.slice(1), '--filter', '@guitar-backend/app', 'deploy', '--prod', '--config.inject-workspace-packages=true', '--offline', out], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(deploy.status, 0, deploy.stderr + deploy.stdout);
  for (const dev of ['typescript', 'eslint', 'ajv']) assert.ok(!fs.existsSync(path.join(out, 'node_modules', dev)), `${dev} is a dev dependency`);
  await withApp(
    async (url) => {
      const argv = JSON.parse(/\bCMD (\[.*\])$/.exec(all('HEALTHCHECK')[0] ?? '')?.[1] ?? '[]') as string[];
      assert.equal(argv[0], 'node');
      const check = spawnSync(process.execPath, argv.slice(1), { env: { ...process.env, PORT: new URL(url).port }, encoding: 'utf8' });
      assert.equal(check.status, 0, `HEALTHCHECK failed: ${check.stderr}`);
    },
    { script: 'dist/src/main.js', cwd: out, env: { NODE_ENV: 'production' } },
  );
});
