/**
 * examples/kubernetes/ and the pod of examples/istio-aeraki/README.md, validated against the
 * Kubernetes schemas (npm kubernetes-models: apps/v1, core/v1), and checked where the schemas
 * cannot: the bootstrap in the ConfigMap compiles, every HTTP probe goes to a port that the
 * bootstrap binds on all addresses (the kubelet probes the pod IP), and the Istio template
 * names a binaryPath that the image has.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Pod } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { compileBootstrap } from '../../proxy/config/compile.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const K8S = path.join(REPO, 'examples', 'kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec: PodSpecLike } } & Partial<PodSpecLike>;
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface PodSpecLike {
  containers: { name: string; image?: string; readinessProbe?: Probe; livenessProbe?: Probe; ports?: { containerPort: number }[] }[];
}

/** Validates against the schema of its apiVersion/kind; throws with the schema's message. */
function validate(doc: Manifest, where: string): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  try {
    if (key === 'apps/v1/Deployment') new Deployment(doc as never).validate();
    else if (key === 'v1/ConfigMap') new ConfigMap(doc as never).validate();
    else if (key === 'v1/Pod') new Pod(doc as never).validate();
    else assert.fail(`${where}: no schema picked for ${key}; add it to this test`);
  } catch (err) {
    throw new Error(`${where} (${key} ${doc.metadata.name}): ${(err as Error).message}`);
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return name.endsWith('.yaml') ? [p] : [];
  });
}

function manifestsOf(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.join('; ')}`);
    return d.toJSON() as Manifest;
  });
}

/** Every HTTP probe's port is bound by the bootstrap's admin on all addresses. */
function checkProbesReachAdmin(spec: PodSpecLike, bootstrap: { admin?: { address: { socket_address: { address: string; port_value: number } } } }, where: string): number {
  let probes = 0;
  for (const c of spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      if (probe?.httpGet === undefined) continue;
      probes++;
      const admin = bootstrap.admin?.address.socket_address;
      assert.ok(admin !== undefined, `${where}: container ${c.name} has an HTTP probe but the bootstrap has no admin`);
      assert.equal(probe.httpGet.port, admin.port_value, `${where}: ${c.name}'s probe goes to the admin port`);
      assert.ok(['0.0.0.0', '::'].includes(admin.address), `${where}: the admin binds ${admin.address}, which the kubelet's probe to the pod IP cannot reach`);
      assert.ok(['/ready', '/server_info'].includes(probe.httpGet.path), `${where}: probe path ${probe.httpGet.path} is an admin GET endpoint`);
    }
  }
  return probes;
}

test('every manifest in examples/kubernetes validates against the Kubernetes schemas', () => {
  const files = yamlFiles(K8S);
  assert.ok(files.length >= 3, `manifests found: ${files.join(', ')}`);
  let n = 0;
  for (const file of files) {
    for (const doc of manifestsOf(file)) {
      validate(doc, path.relative(REPO, file));
      n++;
    }
  }
  assert.ok(n >= 4, `${n} manifests validated`);
});

test('the validation can fail: a Deployment without its selector is refused', () => {
  const [, deployment] = manifestsOf(path.join(K8S, 'sidecar-static.yaml'));
  const broken = structuredClone(deployment!);
  delete (broken.spec as { selector?: unknown }).selector;
  assert.throws(() => validate(broken, 'broken'), /selector/);
});

test('the static sidecar: its bootstrap compiles and its probes reach the admin', () => {
  const [configMap, deployment] = manifestsOf(path.join(K8S, 'sidecar-static.yaml'));
  const doc = parse(configMap!.data!['bootstrap.yaml']!) as Parameters<typeof checkProbesReachAdmin>[1];
  const config = compileBootstrap(doc, 'meltemi-bootstrap');
  assert.equal(config.listeners.length, 1);
  assert.equal(checkProbesReachAdmin(deployment!.spec!.template!.spec, doc, 'sidecar-static.yaml'), 2);
  const meltemi = deployment!.spec!.template!.spec.containers.find((c) => c.name === 'meltemi')!;
  assert.deepEqual(meltemi.ports?.map((p) => p.containerPort), [15000]);
});

test('the Istio injection template puts Meltemi in istio-proxy with a binaryPath the image has', () => {
  const [injector] = manifestsOf(path.join(K8S, 'istio', 'injection-template.yaml'));
  const templates = (parse(injector!.data!['config']!) as { templates: Record<string, string> }).templates;
  const patch = parse(templates['meltemi']!) as Pick<Manifest, 'metadata' | 'spec'>;
  validate({ ...patch, apiVersion: 'v1', kind: 'Pod', metadata: { ...patch.metadata, name: 'template' } }, 'templates.meltemi');
  assert.deepEqual(patch.spec!.containers!.map((c) => c.name), ['istio-proxy']);
  const proxyConfig = JSON.parse(patch.metadata.annotations!['proxy.istio.io/config']!) as { binaryPath: string };
  // The image links the binaryPath to Meltemi's entry point.
  const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`ln -s /opt/meltemi/node_modules/meltemi/dist/proxy/cli\\.js ${proxyConfig.binaryPath}\\b`));
  // Its probe goes to a listener of Istio's rendered bootstrap that routes the path to pilot-agent.
  const probe = patch.spec!.containers![0]!.readinessProbe?.httpGet;
  assert.ok(probe !== undefined, 'the template sets the readiness probe');
  const istio = compileBootstrap(JSON.parse(readFileSync(path.join(REPO, 'test', 'fixtures', 'istio', 'envoy-rev.json'), 'utf8')), 'istio', { allowUnknownStaticFields: true });
  const served = (istio.httpListeners ?? []).find((l) => l.port === probe.port);
  assert.ok(served !== undefined && ['0.0.0.0', '::'].includes(served.host), `port ${String(probe.port)} is an HTTP listener of the bootstrap on all addresses`);
  const route = served.virtualHosts[0]!.routes.find((r) => r.matches(String(probe.path)));
  assert.equal(route?.cluster, 'agent', `${String(probe.path)} is routed to pilot-agent's status port`);
  const [deployment] = manifestsOf(path.join(K8S, 'istio', 'deployment.yaml'));
  const annotations = deployment!.spec!.template!.metadata!.annotations!;
  assert.ok(annotations['inject.istio.io/templates']!.split(',').includes('meltemi'));
  assert.equal(JSON.parse(annotations['proxy.istio.io/config']!).binaryPath, proxyConfig.binaryPath);
});

test('examples/istio-aeraki: the pod validates and its probes reach the template\'s admin', () => {
  const readme = readFileSync(path.join(REPO, 'examples', 'istio-aeraki', 'README.md'), 'utf8');
  const block = /```yaml\n(apiVersion: v1\nkind: Pod\n[\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README has the Pod manifest');
  const pod = parse(block[1]!) as Manifest;
  validate(pod, 'istio-aeraki/README.md');
  assert.doesNotMatch(block[1]!, /npx meltemi/, 'meltemi is not on the npm registry');
  const template = readFileSync(path.join(REPO, 'examples', 'istio-aeraki', 'bootstrap.tmpl.yaml'), 'utf8');
  const bootstrap = parse(template) as Parameters<typeof checkProbesReachAdmin>[1];
  assert.equal(checkProbesReachAdmin(pod.spec as PodSpecLike, bootstrap, 'istio-aeraki'), 2);
});
