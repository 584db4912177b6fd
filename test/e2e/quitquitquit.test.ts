/** Admin POST /quitquitquit starts the SIGTERM shutdown: OK, then exit 0 once no connection is open. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl, spawnCli } from '../helpers/cli-process.js';

test('POST /quitquitquit answers OK and the process exits 0 after the outbound connection closes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-quit-'));
  const file = path.join(dir, 'b.yaml');
  const outbound = { ...metaProtocolListener({ routes: [] }), traffic_direction: 'OUTBOUND' };
  writeFileSync(file, stringify(bootstrapOf([outbound], [], { drain_timeout: '20s' }, { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } })));
  const child = spawnCli(['-c', file]);
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);
    assert.equal((await fetch(`${admin}/quitquitquit`)).status, 405, 'GET changes nothing');
    const listeners = (await (await fetch(`${admin}/listeners?format=json`)).json()) as { listener_statuses: { local_address: string }[] };
    const [host, port] = listeners.listener_statuses[0]!.local_address.split(':');
    // The application's connection to an outbound listener keeps the proxy up while it lives.
    const app = net.connect(Number(port), host);
    await new Promise((r) => app.once('connect', r));
    const quit = await fetch(`${admin}/quitquitquit`, { method: 'POST' });
    assert.equal(quit.status, 200);
    assert.equal(await quit.text(), 'OK\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(child.exitCode, null, 'still serving the outbound connection');
    const t0 = Date.now();
    app.destroy();
    const r = await out.done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 5000, 'exited once the connection closed, not at the 20 s drain timeout');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
