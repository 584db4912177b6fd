/**
 * The `meltemi` command as a user runs it: config errors, --validate, admin endpoints, and
 * a graceful drain on SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl, spawnCli } from '../helpers/cli-process.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-cli-'));
let provider: Provider;

before(async () => {
  provider = await startSofaProvider({ name: 'cli' });
});
after(async () => {
  await provider.close();
});

function writeYaml(name: string, doc: object): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
}

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

test('an invalid bootstrap exits non-zero and names the field', async () => {
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }] })], [{ ...(staticCluster('c', [1]) as object), lb_polcy: 'ROUND_ROBIN' }]);
  const r = await collect(spawnCli(['-c', writeYaml('bad.yaml', doc)])).done;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /static_resources\.clusters\[0\]\.lb_polcy: unknown field/);
});

test('a missing file and a missing -c are clear errors', async () => {
  const r1 = await collect(spawnCli(['-c', path.join(dir, 'nope.yaml')])).done;
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /cannot read .*nope\.yaml/);
  const r2 = await collect(spawnCli([])).done;
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /-c <bootstrap> is required/);
});

test('--validate accepts a good JSON bootstrap', async () => {
  const file = path.join(dir, 'good.json');
  writeFileSync(file, JSON.stringify(bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }] })], [staticCluster('c', [provider.port])])));
  const r = await collect(spawnCli(['-c', file, '--validate'])).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid \(1 listener\(s\), 1 cluster\(s\)\)/);
});

test('serves traffic, answers the admin endpoints, and drains in-flight calls on SIGTERM', async () => {
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }] })], [staticCluster('demo', [provider.port])], { drain_timeout: '5s' }, ADMIN);
  const child = spawnCli(['-c', writeYaml('run.yaml', doc)]);
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);
    assert.equal((await fetch(`${admin}/ready`)).status, 200);
    const listeners = (await (await fetch(`${admin}/listeners?format=json`)).json()) as { listener_statuses: { name: string; local_address: string }[] };
    const address = listeners.listener_statuses[0]!.local_address;
    const dump = (await (await fetch(`${admin}/config_dump`)).json()) as { configs: { '@type': string }[] };
    // Envoy's sections, in Envoy's order (tracker keys bootstrap, clusters, listeners, routes ...).
    assert.deepEqual(
      dump.configs.map((c) => c['@type'].replace('type.googleapis.com/', '')),
      [
        'envoy.admin.v3.BootstrapConfigDump',
        'envoy.admin.v3.ClustersConfigDump',
        'envoy.admin.v3.ListenersConfigDump',
        'aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump',
        'envoy.admin.v3.RoutesConfigDump',
        'envoy.admin.v3.SecretsConfigDump',
      ],
    );

    const consumer = await createSofaConsumer(address);
    assert.equal(await consumer.invoke('sayHello', [java.String('cli')]), 'hello cli from cli');
    const stats = await (await fetch(`${admin}/stats`)).text();
    assert.match(stats, /^meta_protocol\.dubbo\.main\.request: 1$/m);
    assert.match(stats, /^meta_protocol\.dubbo\.main\.route\.all\.responses: 1$/m);

    const slow = consumer.invoke('slow', [java.int(600)], 5000);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    assert.equal(await slow, 'slow from cli', 'the call in flight completes during the drain');
    const r = await out.done;
    assert.equal(r.code, 0, r.stderr);
    await consumer.close();
  } finally {
    child.kill('SIGKILL');
  }
});

test('by default one worker per core serves traffic behind one admin server, and SIGTERM drains them all', async () => {
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }] })], [staticCluster('demo', [provider.port])], { drain_timeout: '5s' }, ADMIN);
  const child = spawnCli(['-c', writeYaml('workers.yaml', doc)], {}, { defaultWorkers: true });
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);
    let address = '';
    for (let i = 0; i < 200 && address === ''; i++) {
      try {
        const l = (await (await fetch(`${admin}/listeners?format=json`)).json()) as { listener_statuses: { local_address: string }[] };
        address = l.listener_statuses[0]?.local_address ?? '';
      } catch {
        // workers still starting
      }
      if (address === '') await new Promise((r) => setTimeout(r, 25));
    }
    assert.notEqual(address, '', 'a listener is reported');
    const consumers = await Promise.all(Array.from({ length: 4 }, () => createSofaConsumer(address)));
    for (const [i, c] of consumers.entries()) assert.equal(await c.invoke('sayHello', [java.String(`w${i}`)]), `hello w${i} from cli`);
    // Worker stats reach the primary about once a second; the sum covers every worker.
    let total = 0;
    for (let i = 0; i < 60 && total < 4; i++) {
      const m = /^meta_protocol\.dubbo\.main\.request: (\d+)$/m.exec(await (await fetch(`${admin}/stats`)).text());
      total = Number(m?.[1] ?? 0);
      if (total < 4) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(total, 4);
    await Promise.all(consumers.map((c) => c.close()));
    child.kill('SIGTERM');
    const r = await out.done;
    assert.equal(r.code, 0, r.stderr);
  } finally {
    child.kill('SIGKILL');
  }
});
