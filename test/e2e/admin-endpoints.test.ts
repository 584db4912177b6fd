/**
 * The admin server of the real `meltemi` command, driven with undici: readiness and
 * health-check failing, server info, POST-only mutations, runtime log levels, Prometheus
 * stats, a graceful listener drain (Envoy's: still accepting for the drain time); and an access log on stdout, written out on SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl, spawnCli } from '../helpers/cli-process.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-admin-'));
const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
const STDOUT_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
let provider: Provider;

before(async () => {
  provider = await startSofaProvider({ name: 'admin' });
});
after(async () => {
  await provider.close();
});

async function http(method: 'GET' | 'POST', url: string): Promise<{ status: number; body: string }> {
  const r = await request(url, { method });
  return { status: r.statusCode, body: await r.body.text() };
}

/** True when the proxy accepts a connection and then closes it by itself within 5 s. */
function closedByProxy(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 5000);
    let connected = false;
    s.once('connect', () => (connected = true));
    s.on('data', () => undefined);
    s.once('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(connected);
    });
  });
}

function refused(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test('admin endpoints of the running CLI', async () => {
  const doc = bootstrapOf(
    [
      metaProtocolListener({
        routes: [{ name: 'all', cluster: 'demo' }],
        extra: { access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': STDOUT_LOG, log_format: { text_format_source: { inline_string: 'ACCESS %REQ(METHOD)% %RESPONSE_CODE% %ROUTE_NAME%\n' } } } }] },
      }),
    ],
    [staticCluster('demo', [provider.port])],
    { drain_timeout: '2s' },
    ADMIN,
  );
  const file = path.join(dir, 'admin.yaml');
  writeFileSync(file, stringify(doc));
  const child = spawnCli(['-c', file], { MELTEMI_LOG_LEVEL: 'info' });
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);

    assert.deepEqual(await http('GET', `${admin}/ready`), { status: 200, body: 'LIVE\n' });
    const info = JSON.parse((await http('GET', `${admin}/server_info`)).body) as { state: string; version: string };
    assert.equal(info.state, 'LIVE');
    assert.match(info.version, /^\d+\.\d+\.\d+/);

    // Memory, on Envoy's field names and as gauges: one process, its RSS in a sane range.
    const memory = JSON.parse((await http('GET', `${admin}/memory`)).body) as Record<string, string | number>;
    assert.equal(memory['processes'], 1);
    const physical = Number(memory['total_physical_bytes']);
    assert.ok(physical > 20 * 2 ** 20 && physical < 2 ** 30, `rss ${physical}`);
    assert.ok(Number(memory['allocated']) > 0 && Number(memory['heap_size']) >= Number(memory['allocated']) / 4, JSON.stringify(memory));
    assert.match((await http('GET', `${admin}/stats`)).body, /server\.memory_physical_size: [1-9]\d{6,}/);

    // Mutating endpoints want POST, as Envoy's do.
    assert.equal((await http('GET', `${admin}/healthcheck/fail`)).status, 405);
    assert.equal((await http('POST', `${admin}/healthcheck/fail`)).status, 200);
    assert.deepEqual(await http('GET', `${admin}/ready`), { status: 503, body: 'DRAINING\n' });
    assert.equal((JSON.parse((await http('GET', `${admin}/server_info`)).body) as { state: string }).state, 'DRAINING');
    assert.equal((await http('POST', `${admin}/healthcheck/ok`)).status, 200);
    assert.equal((await http('GET', `${admin}/ready`)).status, 200);

    const listeners = JSON.parse((await http('GET', `${admin}/listeners?format=json`)).body) as { listener_statuses: { local_address: string }[] };
    const address = listeners.listener_statuses[0]!.local_address;

    // Log level at runtime: debug lines appear only after the switch.
    assert.equal((await http('POST', `${admin}/logging?level=bogus`)).status, 400);
    const lv = await http('POST', `${admin}/logging?level=debug`);
    assert.equal(lv.status, 200);
    assert.match(lv.body, /meltemi: debug/);
    const consumer = await createSofaConsumer(address);
    assert.equal(await consumer.invoke('sayHello', [java.String('x')]), 'hello x from admin');
    assert.equal((await http('GET', `${admin}/logging`)).status, 405);
    // At warning, the info lines of the health-check switch are no longer written.
    const said = (): number => out.stderr().split('health checks now fail').length - 1;
    assert.equal(said(), 1);
    assert.equal((await http('POST', `${admin}/logging?level=warning`)).status, 200);
    await http('POST', `${admin}/healthcheck/fail`);
    await http('POST', `${admin}/healthcheck/ok`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(said(), 1, 'no info line at level warning');

    const prom = (await http('GET', `${admin}/stats/prometheus`)).body;
    assert.match(prom, /^# TYPE envoy_meta_protocol_dubbo_main_request counter$/m);
    assert.match(prom, /^envoy_meta_protocol_dubbo_main_request 1$/m);
    assert.match(prom, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="demo"\} 1$/m);
    assert.match(prom, /^envoy_meta_protocol_dubbo_main_request_time_ms_count 1$/m);
    assert.match((await http('GET', `${admin}/clusters`)).body, new RegExp(`^demo::127\\.0\\.0\\.1:${provider.port}::rq_success::1$`, 'm'));

    // Graceful drain, as Envoy's: the listener keeps accepting for the drain time (2 s here)
    // but tells each new connection to go at once; then it stops accepting. The admin stays up.
    assert.equal((await http('POST', `${admin}/drain_listeners?graceful`)).status, 200);
    await consumer.close();
    assert.ok(await closedByProxy(address), 'a connection accepted during the drain is drained and closed');
    assert.equal((await http('GET', `${admin}/ready`)).status, 200);
    const t0 = Date.now();
    while (!(await refused(address)) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await refused(address), 'the listener no longer accepts after the drain time');

    child.kill('SIGTERM');
    const r = await out.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ACCESS sayHello 0 all$/m, 'the access line reached stdout before exit');
  } finally {
    child.kill('SIGKILL');
  }
});
