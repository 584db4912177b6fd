/**
 * Admin and process lifecycle (issue 13, defect 9): /listeners after /drain_listeners, and a
 * listener port in use with workers, which must end the primary with the error instead of
 * restarting workers forever.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, spawnCli } from '../helpers/cli-process.js';
import { startMeltemi } from '../helpers/meltemi.js';

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

test('POST /drain_listeners then GET /listeners answers with the addresses the listeners had', async () => {
  const proxy = await startMeltemi(bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] })], [staticCluster('c', [1])], undefined, ADMIN));
  try {
    const base = `http://127.0.0.1:${proxy.server.adminPort}`;
    const port = proxy.listenerPort('main');
    assert.equal((await fetch(`${base}/drain_listeners?graceful`, { method: 'POST' })).status, 200);
    const text = await fetch(`${base}/listeners`);
    assert.equal(text.status, 200);
    assert.equal(await text.text(), `main::127.0.0.1:${port}\n`);
    const json = (await (await fetch(`${base}/listeners?format=json`)).json()) as { listener_statuses: { local_address: string }[] };
    assert.equal(json.listener_statuses[0]?.local_address, `127.0.0.1:${port}`);
    assert.equal((await fetch(`${base}/server_info`)).status, 200, 'the admin is still up');
  } finally {
    await proxy.close();
  }
});

test('with workers, a listener port in use makes the primary exit with the error (no restart loop)', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-lifecycle-'));
    const listener = metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] }) as { address: { socket_address: { port_value: number } } };
    listener.address.socket_address.port_value = port;
    const file = path.join(dir, 'busy.yaml');
    writeFileSync(file, stringify(bootstrapOf([listener], [staticCluster('c', [1])])));
    const t0 = Date.now();
    const child = spawnCli(['-c', file, '--concurrency', '2']);
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const r = await collect(child).done;
    clearTimeout(killer);
    assert.equal(r.code, 1, `exit code (stderr: ${r.stderr.slice(-2000)})`);
    assert.match(r.stderr, /cannot start: .*EADDRINUSE/);
    assert.doesNotMatch(r.stderr, /starting another/, 'no worker was restarted');
    assert.ok(Date.now() - t0 < 10_000);
  } finally {
    busy.close();
  }
});
