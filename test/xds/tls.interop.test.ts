/**
 * TLS and mTLS to the control plane from files named in the bootstrap (the xds-grpc
 * cluster's UpstreamTlsContext), and a bearer token from `initial_metadata` (istiod's
 * 15012). The certificates are made with openssl for the test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import { mppListener, staticXdsCluster, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const dir = mkdtempSync(join(tmpdir(), 'meltemi-tls-'));
const f = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCerts(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=test-ca');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    writeFileSync(f(`${who}.ext`), who === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '1', '-extfile', f(`${who}.ext`));
  }
}

/** The bootstrap with TLS on the xds-grpc cluster (and, optionally, a client certificate and a token). */
function tlsBootstrap(port: number, o: { clientCert: boolean; token?: string }): object {
  const boot = xdsBootstrap({ adsPort: port }) as { static_resources: { clusters: Record<string, unknown>[] }; dynamic_resources: { ads_config: { grpc_services: Record<string, unknown>[] } } };
  const common: Record<string, unknown> = { validation_context: { trusted_ca: { filename: f('ca.pem') } } };
  if (o.clientCert) common['tls_certificates'] = [{ certificate_chain: { filename: f('client.pem') }, private_key: { filename: f('client.key') } }];
  boot.static_resources.clusters[0]!['transport_socket'] = {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'localhost', common_tls_context: common },
  };
  if (o.token !== undefined) boot.dynamic_resources.ads_config.grpc_services[0]!['initial_metadata'] = [{ key: 'authorization', value: `Bearer ${o.token}` }];
  return boot;
}

describe('TLS to the control plane', () => {
  before(() => makeCerts());
  const planes: TestControlPlane[] = [];
  after(() => {
    for (const p of planes) p.stop();
  });

  async function plane(opts: Parameters<TestControlPlane['start']>[1]): Promise<TestControlPlane> {
    const cp = new TestControlPlane('istiod');
    planes.push(cp);
    await cp.start(0, opts);
    cp.set(CLUSTER_TYPE, 'c1', [staticXdsCluster('v1', [1])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { inlineCluster: 'v1' })]);
    return cp;
  }

  const tls = () => ({ cert: readFileSync(f('server.pem')), key: readFileSync(f('server.key')) });

  test('TLS with a bearer token (istiod 15012)', async () => {
    const cp = await plane({ tls: tls(), token: 's3cret' });
    const m = await startXdsMeltemi(tlsBootstrap(cp.port, { clientCert: false, token: 's3cret' }));
    try {
      await waitFor('listener over TLS', () => m.server.listenerNames().includes('dubbo'));
      assert.equal(cp.refused, 0);
    } finally {
      await m.close();
    }
  });

  test('a wrong token is refused and nothing is applied', async () => {
    const cp = await plane({ tls: tls(), token: 's3cret' });
    const m = await startXdsMeltemi(tlsBootstrap(cp.port, { clientCert: false, token: 'wrong' }));
    try {
      await waitFor('refused', () => cp.refused > 0);
      assert.deepEqual(m.server.listenerNames(), []);
    } finally {
      await m.close();
    }
  });

  test('mTLS (Aeraki 15010): the client certificate from the bootstrap files', async () => {
    const cp = await plane({ tls: { ...tls(), clientCa: readFileSync(f('ca.pem')) } });
    const m = await startXdsMeltemi(tlsBootstrap(cp.port, { clientCert: true }));
    try {
      await waitFor('listener over mTLS', () => m.server.listenerNames().includes('dubbo'));
    } finally {
      await m.close();
    }
    // Without the client certificate the handshake fails: no stream, no config.
    const m2 = await startXdsMeltemi(tlsBootstrap(cp.port, { clientCert: false }));
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(m2.server.listenerNames(), []);
      assert.ok(m2.dynamic.xds.statsLines().some((l) => /xds\.ads\.reconnects: [1-9]/.test(l)));
    } finally {
      await m2.close();
    }
  });
});
