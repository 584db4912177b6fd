/**
 * `meltemi -c bootstrap --concurrency 2` (the real CLI): the primary holds one ADS and one
 * MetaRDS stream, the workers serve traffic and apply every route change; the admin (in
 * the primary) shows the xDS state and the merged stats; SIGTERM drains and exits 0.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { collect, spawnCli } from '../helpers/cli-process.js';
import { strictDecode } from '../helpers/envoy-admin-json.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function retry<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (ok(v)) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what} (last: ${String(last)})`);
}

let v1: Provider;
let v2: Provider;
let cp: TestControlPlane;
before(async () => {
  v1 = await startSofaProvider({ name: 'v1' });
  v2 = await startSofaProvider({ name: 'v2' });
  cp = new TestControlPlane('istiod');
  await cp.start();
});
after(async () => {
  cp.stop();
  await Promise.all([v1.close(), v2.close()]);
});

test('--concurrency 2: one xDS client in the primary, routes applied in every worker', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1'), edsCluster('v2')]);
  cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port]), cla('v2', [v2.port])]);
  cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true, port })]);
  cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
  const boot = { ...xdsBootstrap({ adsPort: cp.port }), admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } } };
  const file = join(mkdtempSync(join(tmpdir(), 'meltemi-xds-')), 'bootstrap.json');
  writeFileSync(file, JSON.stringify(boot));
  const child = spawnCli(['-c', file, '--concurrency', '2'], { MELTEMI_LOG_LEVEL: 'warn' });
  const out = collect(child);
  const consumers: Consumer[] = [];
  try {
    const address = `127.0.0.1:${port}`;
    const hello = async (c: Consumer): Promise<string> => String(await c.invoke('sayHello', [java.String('x')]));
    const first = await retry('first call', async () => {
      const c = await createSofaConsumer(address);
      consumers.push(c);
      return hello(c);
    }, (r) => r === 'hello x from v1');
    assert.equal(first, 'hello x from v1');
    for (let i = 0; i < 5; i++) consumers.push(await createSofaConsumer(address));
    for (const c of consumers) assert.equal(await hello(c), 'hello x from v1');
    // The control plane sees one client: one ADS stream, one MetaRDS stream.
    const streams = (method: string): number => new Set(cp.requests.filter((r) => r.method === method).map((r) => r.stream)).size;
    assert.equal(streams('ads'), 1);
    assert.equal(streams('rds'), 1);
    // A route change reaches every worker, on the open connections.
    cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'all', cluster: 'v2' }])]);
    for (const c of consumers) await retry('v2 on every connection', () => hello(c), (r) => r === 'hello x from v2', 5000);
    // Admin in the primary: xDS state and merged stats.
    const dump = await retry('config_dump', async () => (await fetch(`http://127.0.0.1:${adminPort}/config_dump?resource=dynamic_route_configs`)).text(), (t) => t.includes('"r2"'));
    strictDecode('envoy.admin.v3.ConfigDump', JSON.parse(dump));
    const tables = (JSON.parse(dump) as { configs: { version_info: string; route_config: { name: string } }[] }).configs;
    assert.deepEqual(tables.map((t) => [t.version_info, t.route_config.name]), [['r2', 'demo_20880']]);
    const stats = await retry('stats', async () => (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text(), (t) => /cx_total: ([6-9]|\d\d)/.test(t));
    assert.match(stats, /xds\.ads\.lds\.update_success: 1/);
    // Memory adds up the primary and both workers (each worker's figure comes with its next stats report).
    const memory = await retry(
      'memory of all three processes',
      async () => (await (await fetch(`http://127.0.0.1:${adminPort}/memory`)).json()) as Record<string, string | number>,
      (m) => m['processes'] === 3,
    );
    assert.equal(memory['processes'], 3);
    assert.ok(Number(memory['total_physical_bytes']) > 3 * 20 * 2 ** 20, JSON.stringify(memory));
  } finally {
    await Promise.all(consumers.map((c) => c.close()));
    child.kill('SIGTERM');
    const done = await out.done;
    assert.equal(done.code, 0, done.stderr);
  }
});
