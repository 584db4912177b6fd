/**
 * A pilot-agent stand-in: it renders Istio's bootstrap (test/fixtures/istio/) into a pod-like
 * directory with free ports, serves xDS on the Unix socket ./etc/istio/proxy/XDS (the test
 * control plane, delta ADS as Istio ≥ 1.22) and a status port whose /healthz/ready runs
 * pilot-agent's readiness check against the admin, and starts Meltemi with pilot-agent's
 * exact command line (istio pkg/envoy/proxy.go). Then: readiness through the agent listener,
 * a Dubbo call through an outbound listener, the Prometheus scrape through the stats
 * listener, and istio-proxy's drain (drain_listeners?inboundonly&graceful, calls keep
 * working, exit once no connection is open), with zero failed calls.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import { freePort } from '../helpers/free-port.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { cla, edsCluster, mppListener } from '../../tools/testing/xds-resources.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/istio/envoy-rev.json', import.meta.url));
const CLI = fileURLToPath(new URL('../../proxy/cli.js', import.meta.url));
const UPSTREAM = 'outbound|20880||demo.meta-dubbo.svc.cluster.local';

interface Ports {
  admin: number;
  status: number;
  prometheus: number;
  agent: number;
  outbound: number;
}

type Json = Record<string, unknown>;

/** The fixture with every fixed port moved to a free one, and listeners on loopback only. */
function render(ports: Ports): Json {
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Json;
  const sa = (o: unknown): Json => ((o as Json)['socket_address'] as Json);
  (sa((doc['admin'] as Json)['address'])).port_value = ports.admin;
  const statics = doc['static_resources'] as { clusters: Json[]; listeners: Json[] };
  const endpointOf = (c: Json): Json => sa(((((c['load_assignment'] as Json)['endpoints'] as Json[])[0]!['lb_endpoints'] as Json[])[0]!['endpoint'] as Json)['address']);
  for (const c of statics.clusters) {
    if (c['name'] === 'prometheus_stats') endpointOf(c).port_value = ports.admin;
    if (c['name'] === 'agent') endpointOf(c).port_value = ports.status;
  }
  for (const l of statics.listeners) {
    const a = sa(l['address']);
    a.address = '127.0.0.1';
    a.port_value = l['name'] === '0.0.0.0_15090' ? ports.prometheus : ports.agent;
  }
  return doc;
}

/** pilot-agent's arguments, in its order (istio pkg/envoy/proxy.go), for this fixture's ProxyConfig. */
function pilotAgentArgs(bootstrap: string): string[] {
  return [
    '-c', bootstrap,
    '--drain-time-s', '45',
    '--drain-strategy', 'immediate',
    '--local-address-ip-version', 'v4',
    '--file-flush-interval-msec', '1000',
    '--disable-hot-restart',
    '--allow-unknown-static-fields',
    '-l', 'warning',
    '--skip-deprecated-logs',
    '--concurrency', '1',
  ];
}

/** pilot-agent's readiness check (istio pilot/cmd/pilot-agent/status/util/stats.go), against the admin. */
async function agentReadiness(adminPort: number): Promise<string | undefined> {
  const statsOf = async (filter: string): Promise<string> => (await fetch(`http://127.0.0.1:${adminPort}/stats?usedonly&filter=${encodeURIComponent(filter)}`)).text();
  const first = (body: string, name: string): number => {
    const line = body.split('\n').find((l) => l.startsWith(name));
    return line === undefined ? 0 : Number(line.split(':')[1]);
  };
  const updates = await statsOf('^(cluster_manager\\.cds|listener_manager\\.lds)\\.(update_success|update_rejected)$');
  if (first(updates, 'cluster_manager.cds.update_success') === 0 || first(updates, 'listener_manager.lds.update_success') === 0) return 'config not received';
  const ready = await statsOf('^(server\\.state|listener_manager\\.workers_started)');
  if (!ready.includes('server.state') || !ready.includes('listener_manager.workers_started')) return `stats missing: ${ready}`;
  if (first(ready, 'server.state') !== 0) return `server.state ${first(ready, 'server.state')}`;
  if (first(ready, 'listener_manager.workers_started') !== 1) return 'workers not started';
  return undefined;
}

/** pilot-agent's EXIT_ON_ZERO_ACTIVE_CONNECTIONS poll: the sum of downstream_cx_active off its own listeners. */
async function activeConnections(p: Ports): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${p.admin}/stats?usedonly&filter=downstream_cx_active$`)).text();
  const skip = [`listener.127.0.0.1_${p.agent}.`, `listener.127.0.0.1_${p.prometheus}.`, 'listener.admin.'];
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith('listener.') || line.includes('worker_') || skip.some((s) => line.startsWith(s))) continue;
    sum += Number(line.split(':')[1] ?? 0);
  }
  return sum;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let pod: string;
let ports: Ports;
let provider: Provider;
let cp: TestControlPlane;
let status: http.Server;
let proxy: ChildProcess;
let exited: Promise<number | null>;
let stderr = '';

before(async () => {
  pod = mkdtempSync(path.join(tmpdir(), 'meltemi-pod-'));
  mkdirSync(path.join(pod, 'etc/istio/proxy'), { recursive: true });
  ports = { admin: await freePort(), status: await freePort(), prometheus: await freePort(), agent: await freePort(), outbound: await freePort() };
  writeFileSync(path.join(pod, 'etc/istio/proxy/envoy-rev.json'), JSON.stringify(render(ports), null, 2));
  provider = await startSofaProvider({ name: 'demo' });
  cp = new TestControlPlane('istiod');
  await cp.start(0, { unixPath: path.join(pod, 'etc/istio/proxy/XDS') });
  status = http.createServer((req, res) => {
    if (req.url !== '/healthz/ready') {
      res.writeHead(404).end();
      return;
    }
    agentReadiness(ports.admin).then(
      (why) => res.writeHead(why === undefined ? 200 : 503).end(why ?? ''),
      (err: unknown) => res.writeHead(503).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => status.listen(ports.status, '127.0.0.1', resolve));
  // pilot-agent runs the proxy from / with the rendered file under ./etc/istio/proxy.
  proxy = spawn(process.execPath, [CLI, ...pilotAgentArgs('./etc/istio/proxy/envoy-rev.json')], { cwd: pod, stdio: ['ignore', 'ignore', 'pipe'] });
  proxy.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  exited = new Promise((resolve) => proxy.on('exit', (code) => resolve(code)));
});

after(async () => {
  if (proxy.exitCode === null) proxy.kill('SIGKILL');
  cp.stop();
  await new Promise<void>((resolve) => status.close(() => resolve()));
  await provider.close();
});

const readyViaAgentListener = async (): Promise<number> => (await fetch(`http://127.0.0.1:${ports.agent}/healthz/ready`)).status;

test('INITIALIZING (503 through the agent listener) until the first xDS config is applied, then LIVE', async () => {
  const admin = await until('admin up', async () => (await fetch(`http://127.0.0.1:${ports.admin}/ready`)).text());
  assert.equal(admin, 'INITIALIZING\n', stderr);
  assert.equal(await readyViaAgentListener(), 503);
  cp.set(CLUSTER_TYPE, 'c1', [edsCluster(UPSTREAM)]);
  cp.set(ENDPOINT_TYPE, 'e1', [cla(UPSTREAM, [provider.port])]);
  cp.set(LISTENER_TYPE, 'l1', [mppListener(`127.0.0.1_${ports.outbound}`, { port: ports.outbound, inlineCluster: UPSTREAM })]);
  await until('ready through 15021', async () => ((await readyViaAgentListener()) === 200 ? true : undefined));
  assert.equal(await (await fetch(`http://127.0.0.1:${ports.admin}/ready`)).text(), 'LIVE\n');
});

test('a Dubbo call through the outbound listener, and the Prometheus scrape through the stats listener', async () => {
  const consumer = await createSofaConsumer(`127.0.0.1:${ports.outbound}`);
  try {
    assert.equal(await consumer.invoke('sayHello', [java.String('pod')]), 'hello pod from demo');
  } finally {
    await consumer.close();
  }
  const scrape = await fetch(`http://127.0.0.1:${ports.prometheus}/stats/prometheus`);
  assert.equal(scrape.status, 200);
  const text = await scrape.text();
  assert.match(text, /^# TYPE /m);
  assert.match(text, /meta_protocol/, 'the listener\'s series are in the scrape');
});

test('istio-proxy\'s drain: inbound-only graceful drain, outbound calls keep working, exit at zero connections', async () => {
  const consumer = await createSofaConsumer(`127.0.0.1:${ports.outbound}`);
  let ok = 0;
  const failures: string[] = [];
  const call = async (i: number): Promise<void> => {
    try {
      assert.equal(await consumer.invoke('sayHello', [java.String(`c${i}`)]), `hello c${i} from demo`);
      ok++;
    } catch (err) {
      failures.push((err as Error).message);
    }
  };
  await call(0);
  // pilot-agent on SIGTERM (pkg/envoy/agent.go): drain inbound listeners, then poll the connections.
  const drain = await fetch(`http://127.0.0.1:${ports.admin}/drain_listeners?inboundonly&graceful`, { method: 'POST' });
  assert.equal(drain.status, 200);
  assert.equal(await drain.text(), 'OK\n');
  for (let i = 1; i <= 20; i++) await call(i);
  assert.deepEqual(failures, [], 'no call failed during the drain');
  assert.equal(ok, 21);
  assert.equal(await readyViaAgentListener(), 200, 'a listener drain leaves the proxy LIVE, as in Envoy');
  assert.ok((await activeConnections(ports)) >= 1, 'the application\'s connection is counted');
  await consumer.close();
  await until('zero active connections', async () => ((await activeConnections(ports)) === 0 ? true : undefined), 10_000);
  // The app has gone: the proxy's own shutdown exits at once (no connection left to wait for).
  const t0 = Date.now();
  proxy.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
  assert.equal(code, 0, stderr);
  assert.ok(Date.now() - t0 < 5000, 'exited without waiting out --drain-time-s 45');
});
