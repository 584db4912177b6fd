/**
 * Every built-in protocol once over mTLS between two Meltemis (Dubbo is in
 * tls-mtls.interop.test.ts): a plaintext client → outbound Meltemi → mTLS (SPIFFE
 * certificates, SAN checked, ALPN istio) → inbound Meltemi → a plaintext server. Thrift
 * with the npm thrift client and server, bRPC and tRPC with their protobufjs peers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { findCodec, registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { TestPki } from '../helpers/test-pki.js';
import type { Pem } from '../helpers/test-pki.js';
import { BrpcClient, startBrpcServer } from '../peers/brpc-peer.js';
import { TrpcClient, startTrpcServer } from '../peers/trpc-peer.js';
import { runNodeClient, startServer } from './peers/thrift/peers.js';
import { thriftListener } from './thrift-peers-setup.js';

const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/provider';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/consumer';
const TLS = 'envoy.transport_sockets.tls';

const pki = new TestPki();
let ca: Pem;
let server: Pem;
let client: Pem;
const running: RunningMeltemi[] = [];

/** Names a listener (as the helpers build it) and puts `transport_socket` on its chain. */
function named(listener: object, name: string, transportSocket?: object): object {
  const l = JSON.parse(JSON.stringify(listener)) as { name: string; filter_chains: Record<string, unknown>[] };
  l.name = name;
  if (transportSocket !== undefined) l.filter_chains[0]!['transport_socket'] = transportSocket;
  return l;
}

/** outbound (plaintext in, mTLS out) → inbound (mTLS in) → `serverPort`; returns the outbound port. */
async function meshPath(listener: (cluster: string) => object, serverPort: number): Promise<number> {
  const downstream = {
    name: TLS,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: true,
      common_tls_context: {
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificates: [{ certificate_chain: { filename: server.certFile }, private_key: { filename: server.keyFile } }],
        validation_context: { trusted_ca: { filename: ca.certFile } },
      },
    },
  };
  const inbound = await startMeltemi(bootstrapOf([named(listener('local'), 'inbound', downstream)], [staticCluster('local', [serverPort])]));
  running.push(inbound);
  const upstream = {
    name: TLS,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni: 'outbound_.9000_._.provider.default.svc.cluster.local',
      common_tls_context: {
        tls_params: { tls_maximum_protocol_version: 'TLSv1_3' },
        alpn_protocols: ['istio'],
        tls_certificates: [{ certificate_chain: { filename: client.certFile }, private_key: { filename: client.keyFile } }],
        validation_context: { trusted_ca: { filename: ca.certFile }, match_subject_alt_names: [{ exact: SERVER_ID }] },
      },
    },
  };
  const outbound = await startMeltemi(bootstrapOf([named(listener('remote'), 'outbound')], [staticCluster('remote', [inbound.listenerPort('inbound')], { transport_socket: upstream })]));
  running.push(outbound);
  assert.equal(inbound.server.listenerStats('inbound').cx_total, 0);
  return outbound.listenerPort('outbound');
}

describe('every built-in protocol over mTLS between two Meltemis', () => {
  before(() => {
    ca = pki.ca('cluster-local');
    server = pki.workload('provider', ca, SERVER_ID);
    client = pki.workload('consumer', ca, CLIENT_ID);
    if (findCodec(brpcCodecFactory.name) === undefined) registerCodec(brpcCodecFactory);
    if (findCodec(trpcCodecFactory.name) === undefined) registerCodec(trpcCodecFactory);
  });
  after(async () => {
    await Promise.all(running.map((m) => m.close()));
  });

  test('Thrift (npm thrift framed/binary client and server)', async () => {
    const peer = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 'tls' });
    try {
      const port = await meshPath((cluster) => thriftListener('t', [{ name: 'all', cluster }], { transport: 'framed', protocol: 'binary' }), peer.port);
      const r = await runNodeClient({ port, transport: 'framed', protocol: 'binary', calls: [['echo', 'over-mtls']] });
      assert.deepEqual(r[0], { ok: 'over-mtls@tls' });
    } finally {
      await peer.close();
    }
  });

  test('bRPC (baidu_std)', async () => {
    const peer = await startBrpcServer({ name: 'tls' });
    try {
      const port = await meshPath((cluster) => metaProtocolListener({ codec: brpcCodecFactory.name, protocol: 'brpc', routes: [{ name: 'all', cluster }] }), peer.port);
      const c = await BrpcClient.connect(port);
      const r = await c.call('over-mtls');
      assert.equal(r.message, 'tls:over-mtls');
      c.close();
    } finally {
      await peer.close();
    }
  });

  test('tRPC', async () => {
    const peer = await startTrpcServer({ name: 'tls' });
    try {
      const port = await meshPath((cluster) => metaProtocolListener({ codec: trpcCodecFactory.name, protocol: 'trpc', routes: [{ name: 'all', cluster }] }), peer.port);
      const c = await TrpcClient.connect(port);
      const r = await c.call('over-mtls');
      assert.equal(r.msg, 'tls:over-mtls');
      c.close();
    } finally {
      await peer.close();
    }
  });
});
