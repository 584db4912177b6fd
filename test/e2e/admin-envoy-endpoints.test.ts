/**
 * The admin endpoints tools read as Envoy's: /server_info (decoded strictly as
 * envoy.admin.v3.ServerInfo, with pilot-agent's command line), /reset_counters, /help and
 * /certs (envoy.admin.v3.Certificates), and what TLS code registers showing in /certs and
 * in the SecretsConfigDump.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AdminServer } from '../../proxy/admin/admin-server.js';
import type { AdminSource } from '../../proxy/admin/admin-server.js';
import { registerCertificatesProvider } from '../../proxy/admin/certs.js';
import { packAny, timestamp } from '../../proxy/admin/config-dump/proto-json.js';
import { registerSecretsProvider } from '../../proxy/admin/config-dump/secrets-section.js';
import { emptyConfigDumpSource } from '../../proxy/admin/config-dump/source.js';
import { emptySnapshot } from '../../proxy/observability/stats-snapshot.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl, spawnCli } from '../helpers/cli-process.js';
import { fetchStrict } from '../helpers/envoy-admin-json.js';

const T = 'type.googleapis.com/';

function sourceWith(snap = emptySnapshot()): AdminSource {
  return {
    serverState: () => 'LIVE',
    quit: () => undefined,
    configDump: () => emptyConfigDumpSource(),
    statsSnapshot: () => snap,
    clusters: () => [],
    serverInfo: () => ({}),
    listeners: () => [],
    memory: () => ({ total: { allocated: 0, heapSize: 0, physical: 0 }, processes: 1 }),
    drainListeners: () => {},
  };
}

test("/server_info of the CLI started with pilot-agent's command line is Envoy's ServerInfo", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-server-info-'));
  const file = path.join(dir, 'boot.json');
  const boot = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }] })], [staticCluster('demo', [1])], undefined, {
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  }) as Record<string, unknown>;
  boot['node'] = { id: 'sidecar~10.0.0.1~demo-0.default~default.svc.cluster.local', cluster: 'demo.default', metadata: { NAMESPACE: 'default', LABELS: { app: 'demo' } } };
  writeFileSync(file, JSON.stringify(boot));
  const child = spawnCli([
    '-c', file,
    '--drain-time-s', '45',
    '--drain-strategy', 'immediate',
    '--local-address-ip-version', 'v4',
    '--file-flush-interval-msec', '1000',
    '--disable-hot-restart',
    '--allow-unknown-static-fields',
    '-l', 'info',
    '--component-log-level', 'misc:error',
    '--concurrency', '1',
  ]);
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);
    const info = await fetchStrict(`${admin}/server_info`, 'envoy.admin.v3.ServerInfo');
    assert.equal(info['state'], 'LIVE');
    assert.match(info['version'] as string, /\d+\.\d+\.\d+/);
    assert.match(info['uptime_current_epoch'] as string, /^\d+s$/);
    assert.match(info['uptime_all_epochs'] as string, /^\d+s$/);
    assert.equal(info['hot_restart_version'], 'disabled');
    assert.deepEqual((info['node'] as Record<string, unknown>)['metadata'], { NAMESPACE: 'default', LABELS: { app: 'demo' } });
    assert.deepEqual(info['command_line_options'], {
      concurrency: 1,
      config_path: file,
      allow_unknown_static_fields: true,
      log_level: 'info',
      component_log_level: 'misc:error',
      file_flush_interval: '1s',
      drain_time: '45s',
      drain_strategy: 'Immediate',
      disable_hot_restart: true,
    });
  } finally {
    child.kill('SIGTERM');
    await out.done;
  }
});

test('/reset_counters zeroes counters, not gauges, and only by POST', async () => {
  const snap = emptySnapshot();
  snap.counters['cluster.demo.upstream_rq_total'] = 5;
  snap.gauges['cluster.demo.upstream_rq_active'] = 3;
  const admin = await AdminServer.start('127.0.0.1', 0, sourceWith(snap));
  const base = `http://127.0.0.1:${admin.port}`;
  const stats = async (): Promise<string> => (await fetch(`${base}/stats`)).text();
  try {
    assert.equal((await fetch(`${base}/reset_counters`)).status, 405);
    assert.match(await stats(), /^cluster\.demo\.upstream_rq_total: 5$/m);
    const r = await fetch(`${base}/reset_counters`, { method: 'POST' });
    assert.equal(r.status, 200);
    const after = await stats();
    assert.match(after, /^cluster\.demo\.upstream_rq_total: 0$/m);
    assert.match(after, /^cluster\.demo\.upstream_rq_active: 3$/m);
    snap.counters['cluster.demo.upstream_rq_total'] = 7;
    assert.match(await stats(), /^cluster\.demo\.upstream_rq_total: 2$/m, 'counts on from the reset');
    const prom = await (await fetch(`${base}/stats/prometheus`)).text();
    assert.match(prom, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="demo"\} 2$/m);
  } finally {
    await admin.close();
  }
});

test('/help lists every path with what it does; /certs and secrets show what TLS code registers', async () => {
  const admin = await AdminServer.start('127.0.0.1', 0, sourceWith());
  const base = `http://127.0.0.1:${admin.port}`;
  try {
    const help = await (await fetch(`${base}/help`)).text();
    assert.match(help, /^admin commands are:\n/);
    const notFound = await (await fetch(`${base}/nope`)).text();
    const paths = /try (.*)$/m.exec(notFound)![1]!.trim().split(' ');
    for (const p of paths) assert.match(help, new RegExp(`^  ${p.replace(/[/]/g, '\\/')}: \\S`, 'm'), p);

    assert.deepEqual(await fetchStrict(`${base}/certs`, 'envoy.admin.v3.Certificates'), { certificates: [] });
    const details = { path: '<inline>', serial_number: '1a', subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/default/sa/demo' }], days_until_expiration: '1', valid_from: timestamp(new Date(0)), expiration_time: timestamp(new Date(86_400_000)) };
    const dropCerts = registerCertificatesProvider(() => [{ ca_cert: [details], cert_chain: [details] }]);
    const dropSecrets = registerSecretsProvider(() => ({
      dynamic_active_secrets: [
        {
          name: 'default',
          version_info: '2026-12-08T00:00:00Z/1',
          last_updated: timestamp(new Date()),
          secret: packAny('envoy.extensions.transport_sockets.tls.v3.Secret', { name: 'default', tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' } } }),
        },
      ],
    }));
    try {
      const certs = await fetchStrict(`${base}/certs`, 'envoy.admin.v3.Certificates');
      assert.equal((certs['certificates'] as unknown[]).length, 1);
      const dump = await fetchStrict(`${base}/config_dump?resource=dynamic_active_secrets`, 'envoy.admin.v3.ConfigDump');
      const [s] = dump['configs'] as { '@type': string; name: string; secret: { tls_certificate: { private_key: { inline_string: string } } } }[];
      assert.equal(s!['@type'], `${T}envoy.admin.v3.SecretsConfigDump.DynamicSecret`);
      assert.equal(s!.name, 'default');
      assert.equal(s!.secret.tls_certificate.private_key.inline_string, '[redacted]');
      const filtered = await fetchStrict(`${base}/config_dump?resource=dynamic_active_secrets&name_regex=ROOTCA`, 'envoy.admin.v3.ConfigDump');
      assert.deepEqual(filtered['configs'], []);
    } finally {
      dropCerts();
      dropSecrets();
    }
    assert.deepEqual(await fetchStrict(`${base}/certs`, 'envoy.admin.v3.Certificates'), { certificates: [] });
  } finally {
    await admin.close();
  }
});
