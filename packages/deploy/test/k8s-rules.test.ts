import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONTAINER_LOG_DIR, defaultLogSettings } from '@guitar-backend/logger';
import { DEFAULT_VERSION, buildPipeline, kubernetesOptions, renderKubernetesConfigMap, CONFIGMAP_FILE, CONFIGMAP_NAME } from '@guitar-backend/fluent-config';
import { renderConfigMaps } from '../src/index.js';
import { find, loadK8s, readRepo, repoRoot } from './helpers.js';
import { withApp } from './app-process.js';

const docs = loadK8s();
const deployments = docs.filter((d) => d.object.kind === 'Deployment').map((d) => d.object as any);
const podSpecs = deployments.map((d) => ({ name: d.metadata.name as string, spec: d.spec.template.spec, labels: d.spec.template.metadata.labels as Record<string, string> }));
const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];
const app = find(docs, 'Deployment', 'guitar-backend') as any;
const appPod = app.spec.template.spec;
const appContainer = appPod.containers.find((c: any) => c.name === 'app');
const sidecar = appPod.initContainers.find((c: any) => c.name === 'fluent-bit');
const env = (c: any, name: string): string | undefined => c.env?.find((e: any) => e.name === name)?.value;

test('Pod Security "restricted" holds for every container, the sidecar included, plus a read-only root filesystem', () => {
  const problems: string[] = [];
  for (const { name, spec } of podSpecs) {
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${name}: host namespaces`);
    for (const v of spec.volumes ?? []) if (v.hostPath) problems.push(`${name}: hostPath volume ${v.name}`);
    for (const c of containersOf(spec)) {
      const sc = c.securityContext ?? {};
      const where = `${name}/${c.name}`;
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities must drop ALL`);
      if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE')) problems.push(`${where}: adds capabilities`);
      if (sc.privileged) problems.push(`${where}: privileged`);
      if ((sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot`);
      const uid = sc.runAsUser ?? spec.securityContext?.runAsUser;
      if (!Number.isInteger(uid) || uid === 0) problems.push(`${where}: needs a numeric non-root runAsUser`);
      if ((sc.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type) !== 'RuntimeDefault') problems.push(`${where}: seccomp RuntimeDefault`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem`);
    }
  }
  assert.deepEqual(problems, []);
  const ns = find(docs, 'Namespace', 'guitar-backend');
  assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
});

test('restartPolicy: Always appears only on init containers: Fluent Bit is a native sidecar', () => {
  for (const { name, spec } of podSpecs) {
    for (const c of spec.containers) assert.equal(c.restartPolicy, undefined, `${name}/${c.name}`);
  }
  assert.equal(sidecar.restartPolicy, 'Always');
  assert.match(sidecar.image, new RegExp(`^fluent/fluent-bit:${DEFAULT_VERSION.replace('.', '\\.')}\\.\\d+$`));
});

test('every volume, ConfigMap, claim, service account, port name and selector referenced exists', () => {
  const problems: string[] = [];
  const has = (kind: string, name: string): boolean => docs.some((d) => d.object.kind === kind && d.object.metadata.name === name);
  for (const { name, spec } of podSpecs) {
    const volumes = new Set((spec.volumes ?? []).map((v: any) => v.name));
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !has('ConfigMap', v.configMap.name)) problems.push(`${name}: ConfigMap ${v.configMap.name}`);
      if (v.persistentVolumeClaim && !has('PersistentVolumeClaim', v.persistentVolumeClaim.claimName)) problems.push(`${name}: claim ${v.persistentVolumeClaim.claimName}`);
    }
    if (spec.serviceAccountName && !has('ServiceAccount', spec.serviceAccountName)) problems.push(`${name}: ServiceAccount ${spec.serviceAccountName}`);
    for (const c of containersOf(spec)) {
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${name}/${c.name}: volume ${m.name}`);
      const ports = new Set((c.ports ?? []).map((p: any) => p.name));
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe].filter(Boolean)) {
        const port = probe.httpGet?.port;
        if (typeof port === 'string' && !ports.has(port)) problems.push(`${name}/${c.name}: probe port ${port}`);
      }
    }
  }
  const podMatching = (selector: Record<string, string>) => podSpecs.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
  for (const d of docs.filter((x) => x.object.kind === 'Service')) {
    const svc = d.object as any;
    const pods = podMatching(svc.spec.selector);
    if (pods.length === 0) problems.push(`Service ${svc.metadata.name}: selects no pod`);
    for (const p of svc.spec.ports) {
      // A named targetPort resolves among init containers (a native sidecar's ports) only from
      // Kubernetes 1.32: below that, a name must belong to a regular container; else use the number.
      const names = new Set(pods.flatMap((pod) => pod.spec.containers.flatMap((c: any) => (c.ports ?? []).map((cp: any) => cp.name))));
      const numbers = new Set(pods.flatMap((pod) => containersOf(pod.spec).flatMap((c: any) => (c.ports ?? []).map((cp: any) => cp.containerPort))));
      if (typeof p.targetPort === 'string' && !names.has(p.targetPort)) problems.push(`Service ${svc.metadata.name}: targetPort ${p.targetPort} is not a regular container's port name`);
      if (typeof p.targetPort === 'number' && !numbers.has(p.targetPort)) problems.push(`Service ${svc.metadata.name}: targetPort ${p.targetPort} is no container's port`);
    }
  }
  for (const d of docs.filter((x) => x.object.kind === 'PodDisruptionBudget')) {
    if (podMatching((d.object as any).spec.selector.matchLabels).length === 0) problems.push(`PDB ${d.object.metadata.name}: selects no pod`);
  }
  for (const d of docs.filter((x) => x.object.kind === 'HorizontalPodAutoscaler')) {
    const target = (d.object as any).spec.scaleTargetRef;
    if (!has(target.kind, target.name)) problems.push(`HPA ${d.object.metadata.name}: target ${target.kind}/${target.name}`);
  }
  for (const dep of deployments) {
    const match = dep.spec.selector.matchLabels;
    if (!Object.entries(match).every(([k, v]) => dep.spec.template.metadata.labels[k] === v)) problems.push(`Deployment ${dep.metadata.name}: selector does not match its template`);
  }
  const binding = find(docs, 'ClusterRoleBinding', 'guitar-backend-prometheus') as any;
  if (!has('ClusterRole', binding.roleRef.name)) problems.push('ClusterRoleBinding: role');
  for (const s of binding.subjects) if (!has('ServiceAccount', s.name)) problems.push(`ClusterRoleBinding: subject ${s.name}`);
  assert.deepEqual(problems, []);
});

test('probe paths and ports are the app\'s real routes and port; the sidecar\'s are Fluent Bit\'s', async () => {
  const port = appContainer.ports.find((p: any) => p.name === 'http').containerPort;
  assert.equal(port, 8000);
  assert.equal(env(appContainer, 'PORT'), String(port));
  const paths = [appContainer.startupProbe, appContainer.livenessProbe, appContainer.readinessProbe].map((p: any) => p.httpGet.path);
  await withApp(async (url) => {
    for (const p of new Set(paths)) assert.equal((await fetch(`${url}${p}`)).status, 200, `GET ${p}`);
    assert.equal((await fetch(`${url}/metrics`)).status, 200);
  });
  const options = kubernetesOptions();
  const sidecarPorts = Object.fromEntries(sidecar.ports.map((p: any) => [p.name, p.containerPort]));
  assert.deepEqual(sidecarPorts, { 'fb-http': options.httpPort, 'fb-metrics': options.outputs.prometheusExporterPort });
  // Fluent Bit's own liveness, not its output's health: Health_Check is off in the generated config.
  for (const probe of [sidecar.startupProbe, sidecar.livenessProbe]) {
    assert.deepEqual(probe.httpGet, { path: '/api/v1/uptime', port: 'fb-http' });
  }
  // A sidecar's readiness gates the pod's: shipping trouble must not take the app out of its Service.
  assert.equal(sidecar.readinessProbe, undefined);
  assert.match(readRepo(CONFIGMAP_FILE), /Health_Check\s+Off/);
});

test('both containers mount the shared emptyDir at the logger\'s directory; the app logs there; NODE_NAME comes from the downward API', () => {
  const logsVolume = appPod.volumes.find((v: any) => v.emptyDir && v.name === 'logs');
  assert.ok(logsVolume);
  for (const c of [appContainer, sidecar]) {
    assert.equal(c.volumeMounts.find((m: any) => m.name === 'logs')?.mountPath, CONTAINER_LOG_DIR, c.name);
  }
  assert.equal(env(appContainer, 'LOG_DIR'), CONTAINER_LOG_DIR);
  assert.equal(sidecar.volumeMounts.find((m: any) => m.name === 'fluent-bit-config')?.mountPath, kubernetesOptions().configDir);
  assert.deepEqual(sidecar.env.find((e: any) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
  // The app (10001) writes, the sidecar reads through the pod's fsGroup.
  assert.equal(appPod.securityContext.fsGroup, appContainer.securityContext.runAsUser);
  assert.equal(sidecar.securityContext.runAsGroup, appPod.securityContext.fsGroup);
});

test('the ConfigMaps in k8s/ are exactly what the generators write now', () => {
  assert.equal(readRepo(CONFIGMAP_FILE), renderKubernetesConfigMap());
  assert.equal(find(docs, 'ConfigMap', CONFIGMAP_NAME).metadata.namespace, 'guitar-backend');
  for (const file of renderConfigMaps(repoRoot)) assert.equal(readRepo(file.path), file.content, file.path);
});

test('third-party images are pinned (no latest); the app image is guitar-backend:<app version>, never pulled', () => {
  const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'packages/app/package.json'), 'utf8')) as { version: string }).version;
  for (const { name, spec } of podSpecs) {
    for (const c of containersOf(spec)) {
      const [, tag] = String(c.image).split(':');
      assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${name}/${c.name}: ${c.image} is not pinned`);
    }
  }
  assert.equal(appContainer.image, `guitar-backend:${version}`);
  assert.equal(appContainer.imagePullPolicy, 'IfNotPresent');
});

test('the grace period covers the app\'s drain, the preStop sleep and Fluent Bit\'s Grace', () => {
  const drain = Number(env(appContainer, 'SHUTDOWN_GRACE_SECONDS'));
  const preStop = appContainer.lifecycle.preStop.sleep.seconds;
  assert.equal(sidecar.lifecycle.preStop.sleep.seconds > 0, true);
  assert.ok(appPod.terminationGracePeriodSeconds > drain + preStop + kubernetesOptions().graceSeconds, `${appPod.terminationGracePeriodSeconds} s`);
});

test('Prometheus scrapes the port names the pod really has', () => {
  const config = readRepo('deploy/prometheus/prometheus-k8s.yml');
  const keep = /regex: (http\|fb-metrics)/.exec(config)?.[1]?.split('|') ?? [];
  const names = containersOf(appPod).flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
  assert.deepEqual(keep.filter((n) => !names.includes(n)), []);
  assert.ok(keep.length === 2);
});


test('no replicas on a Deployment an HPA scales: kubectl apply would reset the HPA\'s scale', () => {
  const scaled = docs.filter((d) => d.object.kind === 'HorizontalPodAutoscaler').map((d) => (d.object as any).spec.scaleTargetRef);
  assert.ok(scaled.some((t: any) => t.kind === 'Deployment' && t.name === 'guitar-backend'));
  for (const target of scaled) {
    const dep = find(docs, target.kind, target.name) as any;
    assert.equal(dep.spec.replicas, undefined, `${target.kind}/${target.name} sets replicas next to its HPA`);
  }
});

test('Prometheus deletes by size before its data volume fills; Loki\'s liveness is not its readiness', () => {
  const prom = find(docs, 'Deployment', 'prometheus') as any;
  const container = prom.spec.template.spec.containers[0];
  const arg = (name: string): string | undefined => (container.args as string[]).find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const bytes = (q: string): number => {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|KB|MB|GB|TB|B)$/.exec(q);
    assert.ok(m, `unreadable size ${q}`);
    // Prometheus reads KB/MB/GB as powers of 1024 (units.Base2Bytes), as Kubernetes reads Ki/Mi/Gi.
    return Number(m[1]) * 1024 ** ['B', 'K', 'M', 'G', 'T'].indexOf(m[2]![0]!);
  };
  const retention = arg('storage.tsdb.retention.size');
  assert.ok(retention, 'no --storage.tsdb.retention.size');
  const dataMount = container.volumeMounts.find((m: any) => m.mountPath === arg('storage.tsdb.path'));
  const volume = prom.spec.template.spec.volumes.find((v: any) => v.name === dataMount.name);
  const claim = volume.persistentVolumeClaim ? (find(docs, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName) as any).spec.resources.requests.storage : undefined;
  const capacity = bytes(String(volume.emptyDir?.sizeLimit ?? claim));
  // Headroom for the WAL's growth between two retention passes and a compaction's temporary block.
  assert.ok(bytes(retention) <= 0.8 * capacity, `retention ${retention} leaves too little of ${capacity} bytes`);

  const loki = (find(docs, 'Deployment', 'loki') as any).spec.template.spec.containers[0];
  assert.equal(loki.readinessProbe.httpGet.path, '/ready');
  assert.notEqual(loki.livenessProbe.httpGet.path, '/ready', 'liveness on /ready restarts a Loki that is only busy starting');
});

/**
 * Kubernetes features the manifests may use, with the first release that has each on by default.
 * The README's stated minimum must be exactly the highest one used.
 */
const FEATURES: Array<{ what: string; since: number; used: () => boolean }> = [
  { what: 'native sidecar (restartPolicy: Always on an init container), SidecarContainers beta', since: 29, used: () => podSpecs.some((p) => (p.spec.initContainers ?? []).some((c: any) => c.restartPolicy === 'Always')) },
  { what: 'lifecycle sleep action (PodLifecycleSleepAction beta)', since: 30, used: () => podSpecs.some((p) => containersOf(p.spec).some((c: any) => c.lifecycle?.preStop?.sleep || c.lifecycle?.postStart?.sleep)) },
  {
    what: 'a Service targetPort naming an init container\'s port (kubernetes/kubernetes#128850)',
    since: 32,
    used: () => docs.filter((d) => d.object.kind === 'Service').some((d) => ((d.object as any).spec.ports as any[]).some((p) => typeof p.targetPort === 'string' && podSpecs.some((pod) => (pod.spec.initContainers ?? []).some((c: any) => (c.ports ?? []).some((cp: any) => cp.name === p.targetPort))))),
  },
  { what: 'a zero-second sleep action (PodLifecycleSleepActionAllowZero beta)', since: 33, used: () => podSpecs.some((p) => containersOf(p.spec).some((c: any) => c.lifecycle?.preStop?.sleep?.seconds === 0)) },
];

test('the README states the minimum Kubernetes version, which is the newest feature the manifests use', () => {
  const stated = /Kubernetes \*\*1\.(\d+)\*\* or later/.exec(readRepo('README.md'));
  assert.ok(stated, 'README.md must say "Kubernetes **1.N** or later"');
  const minor = Number(stated[1]);
  const used = FEATURES.filter((f) => f.used());
  const needed = Math.max(...used.map((f) => f.since));
  assert.equal(minor, needed, `the manifests need 1.${needed}: ${used.map((f) => `${f.what} (1.${f.since})`).join('; ')}`);
  // The API schema the manifests are type-checked against (kubernetes-types) is that version's.
  const typesVersion = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'packages/deploy/node_modules/kubernetes-types/package.json'), 'utf8')) as { version: string }).version;
  assert.equal(typesVersion.split('.').slice(0, 2).join('.'), `1.${minor}`);
  // A feature newer than the minimum is caught: the old named targetPort would need 1.32.
  const svc = find(docs, 'Service', 'guitar-backend') as any;
  const port = svc.spec.ports.find((p: any) => p.name === 'fb-metrics');
  const saved = port.targetPort;
  port.targetPort = 'fb-metrics';
  try {
    assert.equal(Math.max(...FEATURES.filter((f) => f.used()).map((f) => f.since)), 32);
  } finally {
    port.targetPort = saved;
  }
});

test('no password is written in k8s/: Grafana\'s admin password comes from a Secret the operator creates', () => {
  const problems: string[] = [];
  for (const { name, spec } of podSpecs) {
    for (const c of containersOf(spec)) {
      for (const e of c.env ?? []) {
        if (/PASSWORD|SECRET|TOKEN/i.test(e.name) && e.value !== undefined) problems.push(`${name}/${c.name}: ${e.name} has a value in the file`);
      }
    }
  }
  assert.deepEqual(problems, []);
  const grafana = (find(docs, 'Deployment', 'grafana') as any).spec.template.spec.containers[0];
  const ref = grafana.env.find((e: any) => e.name === 'GF_SECURITY_ADMIN_PASSWORD')?.valueFrom?.secretKeyRef;
  assert.ok(ref?.name && ref.optional !== true, 'GF_SECURITY_ADMIN_PASSWORD from a required Secret');
  assert.ok(!docs.some((d) => d.object.kind === 'Secret'), 'no Secret with a password in k8s/');
  assert.match(readRepo('README.md'), new RegExp(`create secret generic ${ref.name} `), 'the README says how to create it');
});

test('the shared log volume holds the app\'s own files and the sidecar\'s full Loki queue, with room to spare', () => {
  const size = (q: string): number => {
    const m = /^(\d+)(Ki|Mi|Gi|K|M|G)$/.exec(q);
    assert.ok(m, `unreadable size ${q}`);
    return Number(m[1]) * 1024 ** (['K', 'M', 'G'].indexOf(m[2]![0]!) + 1);
  };
  const volume = appPod.volumes.find((v: any) => v.name === 'logs').emptyDir.sizeLimit as string;
  const loki = buildPipeline(defaultLogSettings, kubernetesOptions()).outputs.find((o) => o.plugin === 'loki');
  const queue = loki?.properties.find((p) => p.key === 'storage.total_limit_size')?.value;
  assert.ok(queue, 'the loki output has a storage.total_limit_size');
  const appFiles = defaultLogSettings.rotation.keepFiles * defaultLogSettings.rotation.maxFileBytes;
  // Past sizeLimit the kubelet evicts the pod: the app's files plus the queue must leave a quarter free.
  assert.ok(appFiles + size(queue) <= 0.75 * size(volume), `${appFiles} B of logs + ${queue} of queue in ${volume}`);
});
