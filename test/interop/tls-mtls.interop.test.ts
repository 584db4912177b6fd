/**
 * mTLS between two Meltemis as Istio sets it up (spec/istio-sidecar.md §5): a plaintext
 * Dubbo client → outbound Meltemi (UpstreamTlsContext: SPIFFE client certificate, SNI
 * outbound_.<port>_._.<host>, ALPN istio, SAN match) → inbound Meltemi (DownstreamTlsContext,
 * client certificate required) → a plaintext sofa-rpc provider. Then the inbound side
 * against node and openssl clients: another trust domain, an expired certificate, none.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, hessianDecode } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { TestPki } from '../helpers/test-pki.js';
import type { Pem } from '../helpers/test-pki.js';
import { startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const TLS = 'envoy.transport_sockets.tls';
const UP = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const DOWN = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/provider';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/consumer';

function upstreamTls(client: Pem, ca: Pem, san: string): object {
  return {
    name: TLS,
    typed_config: {
      '@type': UP,
      sni: 'outbound_.20880_._.demo.default.svc.cluster.local',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
        tls_certificates: [{ certificate_chain: { filename: client.certFile }, private_key: { filename: client.keyFile } }],
        validation_context: { trusted_ca: { filename: ca.certFile }, match_subject_alt_names: [{ exact: san }] },
        alpn_protocols: ['istio'],
      },
    },
  };
}

function downstreamTls(server: Pem, ca: Pem): object {
  return {
    name: TLS,
    typed_config: {
      '@type': DOWN,
      require_client_certificate: true,
      common_tls_context: {
        tls_params: {
          tls_minimum_protocol_version: 'TLSv1_2',
          tls_maximum_protocol_version: 'TLSv1_3',
          cipher_suites: ['ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256'],
        },
        tls_certificates: [{ certificate_chain: { filename: server.certFile }, private_key: { filename: server.keyFile } }],
        validation_context: { trusted_ca: { filename: ca.certFile } },
        alpn_protocols: ['istio-peer-exchange', 'istio'],
      },
    },
  };
}

function withTransport(listener: object, ts: object): object {
  const l = listener as { filter_chains: Record<string, unknown>[] };
  l.filter_chains[0]!['transport_socket'] = ts;
  return l;
}

async function call(port: number, id: number, arg: string): Promise<{ status: number; body: unknown }> {
  const c = await RawDubboClient.connect(port);
  try {
    c.write(dubboRequest({ id, args: [arg] }));
    await c.until(() => c.frames.length === 1, 5000, 'a reply');
    const f = c.frames[0]!;
    return { status: f.status, body: f.status === 20 ? hessianDecode(f.body.subarray(1)) : f.body.toString('latin1') };
  } finally {
    c.close();
  }
}

/** A node TLS client to the inbound listener; resolves with how the connection ended. */
function tlsProbe(port: number, opts: tls.ConnectionOptions): Promise<{ secure: boolean; alpn: string | false; closedWithoutData: boolean; error: string | undefined }> {
  return new Promise((resolve) => {
    let secure = false;
    let error: string | undefined;
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['istio'], ...opts }, () => {
      secure = true;
      // A Dubbo heartbeat: answered by the inbound Meltemi itself if the connection is kept.
      s.write(Buffer.from('dabbe2000000000000000007000000014e', 'hex'));
    });
    let got = false;
    s.on('data', () => {
      got = true;
      s.end();
    });
    s.on('error', (e) => (error = e.message));
    s.on('close', () => resolve({ secure, alpn: s.alpnProtocol ?? false, closedWithoutData: !got, error }));
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('mTLS between Meltemis (files)', () => {
  const pki = new TestPki();
  let ca: Pem;
  let otherCa: Pem;
  let server: Pem;
  let client: Pem;
  let foreign: Pem;
  let expired: Pem;
  let provider: Provider;
  let inbound: RunningMeltemi;
  let outbound: RunningMeltemi;
  let wrongSan: RunningMeltemi;

  before(async () => {
    ca = pki.ca('cluster-local');
    otherCa = pki.ca('other-domain');
    server = pki.workload('provider', ca, SERVER_ID);
    client = pki.workload('consumer', ca, CLIENT_ID);
    foreign = pki.workload('foreign', otherCa, 'spiffe://other.domain/ns/default/sa/consumer');
    expired = pki.workload('expired', ca, CLIENT_ID, { expired: true });
    provider = await startSofaProvider({ name: 'p1' });
    const accessLog = {
      name: 'envoy.access_loggers.file',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
        path: pki.file('access.log'),
        log_format: { text_format_source: { inline_string: 'peer=%DOWNSTREAM_PEER_URI_SAN% sni=%REQUESTED_SERVER_NAME% arg-route=%ROUTE_NAME%\n' } },
      },
    };
    inbound = await startMeltemi(
      bootstrapOf(
        [withTransport(metaProtocolListener({ name: 'inbound', routes: [{ name: 'all', cluster: 'local' }], extra: { access_log: [accessLog] } }), downstreamTls(server, ca))],
        [staticCluster('local', [provider.port])],
      ),
    );
    const inPort = inbound.listenerPort('inbound');
    outbound = await startMeltemi(
      bootstrapOf([metaProtocolListener({ name: 'outbound', routes: [{ name: 'all', cluster: 'remote' }] })], [staticCluster('remote', [inPort], { transport_socket: upstreamTls(client, ca, SERVER_ID) })]),
    );
    wrongSan = await startMeltemi(
      bootstrapOf(
        [metaProtocolListener({ name: 'outbound', routes: [{ name: 'all', cluster: 'remote' }] })],
        [staticCluster('remote', [inPort], { transport_socket: upstreamTls(client, ca, 'spiffe://cluster.local/ns/default/sa/someone-else') })],
      ),
    );
  });
  after(async () => {
    await Promise.all([outbound?.close(), wrongSan?.close(), inbound?.close()]);
    await provider?.close();
  });

  test('a plaintext Dubbo call crosses outbound → mTLS → inbound and is answered', async () => {
    const r = await call(outbound.listenerPort('outbound'), 11, 'over-mtls');
    assert.equal(r.status, 20);
    assert.ok(provider.calls.some((c) => c.args[0] === 'over-mtls'), 'the provider saw the call');
    await inbound.server.flushObservability();
    const log = readFileSync(pki.file('access.log'), 'utf8');
    assert.match(log, new RegExp(`peer=${CLIENT_ID.replace(/[/.]/g, '\\$&')} sni=outbound_\\.20880_\\._\\.demo\\.default\\.svc\\.cluster\\.local arg-route=all`));
  });

  test('the inbound side saw the client certificate and ALPN istio', async () => {
    const r = await tlsProbe(inbound.listenerPort('inbound'), { cert: client.cert, key: client.key, ca: ca.cert });
    assert.equal(r.secure, true);
    assert.equal(r.alpn, 'istio');
    assert.equal(r.closedWithoutData, false, 'the heartbeat was answered over TLS');
    // An Envoy client offers istio-peer-exchange first; without the metadata-exchange
    // preamble Meltemi must settle on istio (spec/istio-sidecar.md §5.3).
    const envoyLike = await tlsProbe(inbound.listenerPort('inbound'), { cert: client.cert, key: client.key, ca: ca.cert, ALPNProtocols: ['istio-peer-exchange', 'istio'] });
    assert.equal(envoyLike.alpn, 'istio');
  });

  test('an upstream whose SAN does not match the expected identity is refused: the call gets an error reply', async () => {
    const before = provider.calls.length;
    const r = await call(wrongSan.listenerPort('outbound'), 12, 'wrong-san');
    assert.notEqual(r.status, 20);
    assert.equal(provider.calls.length, before);
  });

  test('clients from another trust domain, with an expired certificate, or with none are refused', async () => {
    const port = inbound.listenerPort('inbound');
    for (const [what, opts] of [
      ['another trust domain', { cert: foreign.cert, key: foreign.key }],
      ['expired', { cert: expired.cert, key: expired.key }],
      ['no certificate', {}],
    ] as const) {
      const r = await tlsProbe(port, opts);
      assert.equal(r.closedWithoutData, true, `${what}: refused`);
    }
  });

  test('a plaintext client on the mTLS port gets nothing back (STRICT)', async () => {
    const c = await RawDubboClient.connect(inbound.listenerPort('inbound'));
    c.write(dubboRequest({ id: 13, args: ['plain'] }));
    await c.until(() => c.closed, 5000, 'the connection closed');
    assert.equal(c.frames.length, 0);
  });

  test('openssl s_client completes the mTLS handshake and verifies the chain', async () => {
    const port = inbound.listenerPort('inbound');
    const out = await new Promise<string>((resolve) => {
      const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', client.certFile, '-key', client.keyFile, '-CAfile', ca.certFile, '-alpn', 'istio', '-servername', 'outbound_.20880_._.demo'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('close', () => resolve(text));
      setTimeout(() => p.stdin.end(), 1000);
      setTimeout(() => p.kill(), 5000).unref();
    });
    assert.match(out, /Verify return code: 0 \(ok\)/);
    assert.match(out, /ALPN protocol: istio/);
  });
});

describe('PERMISSIVE: one port, mTLS and plaintext (tls_inspector)', () => {
  const pki = new TestPki();
  let ca: Pem;
  let provider: Provider;
  let inbound: RunningMeltemi;
  let outbound: RunningMeltemi;

  before(async () => {
    ca = pki.ca('cluster-local');
    const server = pki.workload('provider', ca, SERVER_ID);
    const client = pki.workload('consumer', ca, CLIENT_ID);
    provider = await startSofaProvider({ name: 'p2' });
    const base = metaProtocolListener({ name: 'inbound', routes: [{ name: 'all', cluster: 'local' }] }) as { filter_chains: Record<string, unknown>[] } & Record<string, unknown>;
    const filters = base.filter_chains[0]!['filters'];
    // istiod's PERMISSIVE chains (spec/istio-sidecar.md §5.2), with Aeraki's filter in each.
    base.filter_chains = [
      { name: 'mtls', filter_chain_match: { transport_protocol: 'tls', application_protocols: ['istio', 'istio-peer-exchange'] }, filters, transport_socket: downstreamTls(server, ca) },
      { name: 'plaintext', filter_chain_match: { transport_protocol: 'raw_buffer' }, filters },
    ];
    base['listener_filters'] = [{ name: 'envoy.filters.listener.tls_inspector' }];
    inbound = await startMeltemi(bootstrapOf([base], [staticCluster('local', [provider.port])]));
    outbound = await startMeltemi(
      bootstrapOf([metaProtocolListener({ name: 'outbound', routes: [{ name: 'all', cluster: 'remote' }] })], [staticCluster('remote', [inbound.listenerPort('inbound')], { transport_socket: upstreamTls(client, ca, SERVER_ID) })]),
    );
  });
  after(async () => {
    await Promise.all([outbound?.close(), inbound?.close()]);
    await provider?.close();
  });

  test('a plaintext client and an mTLS client (through Meltemi) are both served on the same port', async () => {
    const plain = await call(inbound.listenerPort('inbound'), 21, 'plain-on-permissive');
    assert.equal(plain.status, 20);
    const viaTls = await call(outbound.listenerPort('outbound'), 22, 'mtls-on-permissive');
    assert.equal(viaTls.status, 20);
    assert.ok(provider.calls.some((c) => c.args[0] === 'plain-on-permissive'));
    assert.ok(provider.calls.some((c) => c.args[0] === 'mtls-on-permissive'));
  });

  test('a TLS client without an Istio ALPN matches no chain and is closed', async () => {
    const r = await tlsProbe(inbound.listenerPort('inbound'), { ALPNProtocols: ['h2'] });
    assert.equal(r.closedWithoutData, true);
    assert.equal(r.secure, false);
  });
});

describe('TLS in the filter chain model: per-chain transport, tcp_proxy beside MetaProtocol, RBAC by principal', () => {
  const pki = new TestPki();
  const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
  const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
  const INTRUDER_ID = 'spiffe://cluster.local/ns/default/sa/intruder';
  let provider: Provider;
  let echo: net.Server;
  let inbound: RunningMeltemi;
  let outbound: RunningMeltemi;
  let intruder: RunningMeltemi;

  before(async () => {
    const ca = pki.ca('cluster-local');
    const server = pki.workload('provider', ca, SERVER_ID);
    const client = pki.workload('consumer', ca, CLIENT_ID);
    const other = pki.workload('intruder', ca, INTRUDER_ID);
    provider = await startSofaProvider({ name: 'p3' });
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const base = metaProtocolListener({ name: 'inbound', routes: [{ name: 'all', cluster: 'local' }] }) as { filter_chains: Record<string, unknown>[] } & Record<string, unknown>;
    const meta = base.filter_chains[0]!['filters'] as object[];
    const onlyConsumer = {
      name: 'envoy.filters.network.rbac',
      typed_config: { '@type': RBAC_TYPE, stat_prefix: 'tls_chain.', rules: { policies: { consumer: { permissions: [{ any: true }], principals: [{ authenticated: { principal_name: { exact: CLIENT_ID } } }] } } } },
    };
    // mTLS: RBAC on the verified principal, then the MetaProtocol proxy; plaintext: tcp_proxy to an echo server.
    base.filter_chains = [
      { name: 'mtls', filter_chain_match: { transport_protocol: 'tls' }, filters: [onlyConsumer, ...meta], transport_socket: downstreamTls(server, ca) },
      { name: 'raw', filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 'raw', cluster: 'echo' } }] },
    ];
    base['listener_filters'] = [{ name: 'envoy.filters.listener.tls_inspector' }];
    inbound = await startMeltemi(bootstrapOf([base], [staticCluster('local', [provider.port]), staticCluster('echo', [echoPort])]));
    const inPort = inbound.listenerPort('inbound');
    const outboundWith = (who: Pem, name: string): Promise<RunningMeltemi> =>
      startMeltemi(bootstrapOf([metaProtocolListener({ name, routes: [{ name: 'all', cluster: 'remote' }] })], [staticCluster('remote', [inPort], { transport_socket: upstreamTls(who, ca, SERVER_ID) })]));
    outbound = await outboundWith(client, 'outbound');
    intruder = await outboundWith(other, 'intruder');
  });
  after(async () => {
    await Promise.all([outbound?.close(), intruder?.close(), inbound?.close()]);
    await provider?.close();
    await new Promise((r) => echo?.close(r));
  });

  test('a plaintext connection takes the tcp_proxy chain: bytes come back untouched', async () => {
    const s = net.connect(inbound.listenerPort('inbound'), '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write('not dubbo, not tls\n');
    const deadline = Date.now() + 5000;
    while (Buffer.concat(got).toString() !== 'not dubbo, not tls\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    s.destroy();
    assert.equal(Buffer.concat(got).toString(), 'not dubbo, not tls\n');
  });

  test("mTLS takes the MetaProtocol chain, whose network RBAC reads the client certificate's principal", async () => {
    const ok = await call(outbound.listenerPort('outbound'), 31, 'consumer-over-mtls');
    assert.equal(ok.status, 20);
    assert.ok(provider.calls.some((c) => c.args[0] === 'consumer-over-mtls'));
    const denied = await call(intruder.listenerPort('intruder'), 32, 'intruder-over-mtls');
    assert.notEqual(denied.status, 20, 'another workload of the same trust domain is refused by the principal rule');
    assert.ok(!provider.calls.some((c) => c.args[0] === 'intruder-over-mtls'));
  });
});
