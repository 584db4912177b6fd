/**
 * Certificates from SDS, as Istio delivers them (pilot-agent on a Unix socket, `default` and
 * `ROOTCA`, spec/istio-sidecar.md §5.4): a listener waits for its certificate before it
 * serves; a rotation under load fails no call and closes no connection, and connections
 * made after it present the new certificate.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { TestPki } from '../helpers/test-pki.js';
import type { Pem } from '../helpers/test-pki.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestSdsServer, caSecret, certificateSecret } from '../peers/sds-server.js';
import { certificates } from '../../proxy/admin/certs.js';
import { secretsSection } from '../../proxy/admin/config-dump/secrets-section.js';

const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/provider';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/consumer';
const SDS = {
  api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] },
  resource_api_version: 'V3',
  initial_fetch_timeout: '0s',
};

/** The common_tls_context istiod writes for ISTIO_MUTUAL (spec/istio-sidecar.md §5.1, §5.2). */
function istioCommon(alpn: string[], sans: string[]): object {
  return {
    tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
    alpn_protocols: alpn,
    tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: SDS }],
    combined_validation_context: {
      default_validation_context: { match_subject_alt_names: sans.map((exact) => ({ exact })) },
      validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: SDS },
    },
  };
}

function serialOf(port: number, client: Pem, ca: Pem): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, ca: ca.cert, rejectUnauthorized: false, ALPNProtocols: ['istio'] }, () => {
      const serial = s.getPeerX509Certificate()?.serialNumber ?? '';
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

describe('SDS: certificates from an agent, rotated under load', () => {
  const pki = new TestPki();
  let ca: Pem;
  let serverV1: Pem;
  let serverV2: Pem;
  let client: Pem;
  const inboundSds = new TestSdsServer();
  const outboundSds = new TestSdsServer();
  let provider: Provider;
  let inbound: RunningMeltemi;
  let outbound: RunningMeltemi;

  before(async () => {
    ca = pki.ca('cluster-local');
    serverV1 = pki.workload('provider-v1', ca, SERVER_ID);
    serverV2 = pki.workload('provider-v2', ca, SERVER_ID);
    client = pki.workload('consumer', ca, CLIENT_ID);
    await inboundSds.start();
    await outboundSds.start();
    outboundSds.set(certificateSecret('default', client.cert, client.key), caSecret('ROOTCA', ca.cert));
    provider = await startSofaProvider({ name: 'p-sds' });
  });
  after(async () => {
    await Promise.all([outbound?.close(), inbound?.close()]);
    await provider?.close();
    inboundSds.stop();
    outboundSds.stop();
  });

  test('the inbound listener starts serving only once its certificate and root CA arrived', async () => {
    const listener = metaProtocolListener({ name: 'inbound', routes: [{ name: 'all', cluster: 'local' }] }) as { filter_chains: Record<string, unknown>[] };
    listener.filter_chains[0]!['transport_socket'] = {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', require_client_certificate: true, common_tls_context: istioCommon(['istio-peer-exchange', 'istio'], []) },
    };
    let started = false;
    const starting = startMeltemi(bootstrapOf([listener], [staticCluster('local', [provider.port]), inboundSds.cluster()])).then((m) => {
      started = true;
      return m;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(started, false, 'not serving without a certificate');
    assert.ok(inboundSds.requests.some((r) => (r.resource_names ?? []).includes('default')), 'the SDS server was asked for default');
    inboundSds.set(certificateSecret('default', serverV1.cert, serverV1.key), caSecret('ROOTCA', ca.cert));
    inbound = await starting;
    outbound = await startMeltemi(
      bootstrapOf(
        [metaProtocolListener({ name: 'outbound', routes: [{ name: 'all', cluster: 'remote' }] })],
        [
          staticCluster('remote', [inbound.listenerPort('inbound')], {
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
                sni: 'outbound_.20880_._.provider.default.svc.cluster.local',
                common_tls_context: istioCommon(['istio'], [SERVER_ID]),
              },
            },
          }),
          outboundSds.cluster(),
        ],
      ),
    );
    assert.equal(await serialOf(inbound.listenerPort('inbound'), client, ca), new X509Certificate(serverV1.cert).serialNumber);
  });

  test('a rotation under load: no failed call, no closed connection, new connections get the new certificate', async () => {
    const port = outbound.listenerPort('outbound');
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawDubboClient.connect(port)));
    let sent = 0;
    let stop = false;
    const loops = clients.map(async (c, ci) => {
      let id = ci * 1_000_000;
      while (!stop) {
        const want = c.frames.length + 1;
        c.write(dubboRequest({ id: ++id, args: [`r${id}`] }));
        sent++;
        await c.until(() => c.frames.length >= want, 5000, 'a reply');
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    const cxBefore = inbound.server.listenerStats('inbound').cx_total;
    inboundSds.set(certificateSecret('default', serverV2.cert, serverV2.key));
    await new Promise((r) => setTimeout(r, 500));
    // Under load across the rotation, the outbound Meltemi's mTLS connections stayed up.
    const cxAcross = inbound.server.listenerStats('inbound').cx_total - cxBefore;
    const newSerial = await serialOf(inbound.listenerPort('inbound'), client, ca);
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(loops);
    const frames = clients.flatMap((c) => c.frames);
    assert.ok(sent > 50, `load was running (${sent} calls)`);
    assert.equal(frames.length, sent, 'every call answered');
    assert.deepEqual(frames.filter((f) => f.status !== 20).map((f) => `${f.status} ${f.body.toString('latin1').slice(0, 120)}`), [], 'no error replies');
    assert.ok(clients.every((c) => !c.closed), 'no client connection closed');
    assert.equal(cxAcross, 0, 'no upstream connection was re-made');
    assert.equal(newSerial, new X509Certificate(serverV2.cert).serialNumber, 'a new connection presents the rotated certificate');
    for (const c of clients) c.close();
  });

  test('/certs shows the rotated certificate, the secrets dump names default and ROOTCA, and no private key', () => {
    const certs = inbound.server.certs();
    const chains = certs.certificates.flatMap((c) => c.cert_chain);
    assert.ok(chains.some((c) => c.serial_number === new X509Certificate(serverV2.cert).serialNumber.toLowerCase()));
    assert.ok(chains.every((c) => c.subject_alt_names.some((s) => s['uri'] === SERVER_ID)));
    // The same through the admin's registration: what GET /certs and /config_dump serve.
    const served = JSON.stringify(certificates());
    assert.ok(served.includes(`"serial_number":"${new X509Certificate(serverV2.cert).serialNumber.toLowerCase()}"`), served.slice(0, 300));
    const dump = JSON.stringify(secretsSection(() => true).body);
    assert.match(dump, /"name":"default"/);
    assert.match(dump, /"name":"ROOTCA"/);
    assert.match(dump, /\[redacted\]/);
    assert.doesNotMatch(dump, /PRIVATE KEY/);
    assert.doesNotMatch(dump, new RegExp(Buffer.from(serverV2.key).toString('base64').slice(40, 80).replace(/[+/]/g, '\\$&')));
  });
});
