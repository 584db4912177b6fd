/**
 * Transparent interception between two pods (network namespaces joined by a veth pair, each
 * with the rules istio-iptables writes), once with REDIRECT everywhere and once with the
 * server pod's inbound capture in TPROXY mode. Each pod has a Meltemi sidecar running as uid
 * 1337 that takes istiod-shaped listeners and clusters from its own test control plane over
 * a Unix socket (as pilot-agent's XDS socket); the apps run as uid 1000.
 *
 * - The client app calls the service VIP 240.240.0.5:20880, which exists only in config:
 *   iptables sends it to virtualOutbound (15001), which hands it to `240.240.0.5_20880`
 *   (bind_to_port false, Aeraki's MetaProtocol chain, routes from MetaRDS); the call is
 *   routed by interface and version to v1 (:20880) or v2 (:20881) of the server pod, whose
 *   iptables send it to virtualInbound (15006), whose chain for the port sends it to the app
 *   through `inbound|<port>||` (ORIGINAL_DST, from 127.0.0.6).
 * - A Thrift call to a second VIP (240.240.0.6:9090) takes the same path to an npm thrift
 *   provider.
 * - HTTP and a TCP echo to the server pod pass through untouched: tcp_proxy on
 *   PassthroughCluster, then InboundPassthroughCluster from 127.0.0.6.
 * - No loop: the sidecars' own connections are not captured again (uid 1337; 127.0.0.6).
 * - A direct connection to 15001 (not redirected) falls on the blackhole chain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CLUSTER_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { metaRds } from '../../tools/testing/xds-resources.js';
import { APP_UID, createPods, meshUnavailable, PROXY_UID } from './pods.js';
import type { Pod, PodProcess } from './pods.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(DIST, 'proxy', 'cli.js');
const APP = path.join(DIST, 'test', 'mesh', 'pod-app.js');
const VIP = '240.240.0.5';
const THRIFT_VIP = '240.240.0.6';
const THRIFT_HOST = 'thrift.echo.demo';
const HOST = 'org.apache.dubbo.samples.demoservice';
const MPP = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

const unavailable = meshUnavailable();

/** A tcp_proxy filter chain as istiod writes it. */
function tcpChain(name: string, cluster: string, match?: object): object {
  return {
    name,
    ...(match !== undefined ? { filter_chain_match: match } : {}),
    filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: cluster, cluster } }],
  };
}

/** Aeraki's MetaProtocol filter (what its EnvoyFilter REPLACE puts in place of tcp_proxy), in a TypedStruct. */
function metaFilter(value: Record<string, unknown>): object {
  return { name: 'envoy.filters.network.meta_protocol_proxy', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: MPP, value } };
}

const dubboCodec = { name: 'aeraki.meta_protocol.codec.dubbo' };
const thriftCodec = { name: 'aeraki.meta_protocol.codec.thrift' };

/** Aeraki's outbound `<vip>_<port>` listener: bind_to_port false, MetaProtocol routes from MetaRDS. */
function outboundListener(vip: string, port: number, host: string, protocol: string, codec: object): Resource {
  return {
    '@type': LISTENER_TYPE,
    name: `${vip}_${port}`,
    address: { socket_address: { address: vip, port_value: port } },
    bind_to_port: { value: false },
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      {
        filters: [
          metaFilter({
            statPrefix: `outbound|${port}||${host}`,
            applicationProtocol: protocol,
            codec,
            rds: {
              routeConfigName: `${host}_${port}`,
              configSource: { resourceApiVersion: 'V3', apiConfigSource: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'aeraki-xds' } }] } },
            },
            metaProtocolFilters: [router],
          }),
        ],
      },
    ],
  };
}
const router = { name: 'aeraki.meta_protocol.filters.router' };

function clientResources(serverIp: string): { listeners: Resource[]; clusters: Resource[]; routes: Resource[] } {
  const staticCluster = (name: string, ip: string, port: number): Resource => ({
    '@type': CLUSTER_TYPE,
    name,
    type: 'STATIC',
    connect_timeout: { seconds: 1 },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: port } } } }] }] },
  });
  return {
    listeners: [
      {
        '@type': LISTENER_TYPE,
        name: 'virtualOutbound',
        address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
        use_original_dst: { value: true },
        traffic_direction: 'OUTBOUND',
        filter_chains: [tcpChain('virtualOutbound-blackhole', 'BlackHoleCluster', { destination_port: { value: 15001 } }), tcpChain('virtualOutbound-catchall-tcp', 'PassthroughCluster')],
      },
      outboundListener(VIP, 20880, HOST, 'dubbo', dubboCodec),
      outboundListener(THRIFT_VIP, 9090, THRIFT_HOST, 'thrift', thriftCodec),
    ],
    clusters: [
      { '@type': CLUSTER_TYPE, name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 1 } },
      { '@type': CLUSTER_TYPE, name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: { seconds: 1 } },
      staticCluster(`outbound|20880|v1|${HOST}`, serverIp, 20880),
      staticCluster(`outbound|20880|v2|${HOST}`, serverIp, 20881),
      staticCluster(`outbound|9090||${THRIFT_HOST}`, serverIp, 9090),
    ],
    routes: [
      metaRds(`${HOST}_20880`, [
        { name: 'v2', match: { interface: 'com.example.DemoService', version: '2.0.0' }, cluster: `outbound|20880|v2|${HOST}` },
        { name: 'default', cluster: `outbound|20880|v1|${HOST}` },
      ]),
      metaRds(`${THRIFT_HOST}_9090`, [{ name: 'default', cluster: `outbound|9090||${THRIFT_HOST}` }]),
    ],
  };
}

/**
 * The network RBAC istiod puts in front of an inbound chain for an AuthorizationPolicy that
 * allows only `to.operation.ports: [port]`: it matches only when the connection's local port
 * is the original destination's (under REDIRECT the socket's own is 15006).
 */
function allowOnlyPort(port: number): object {
  return {
    name: 'envoy.filters.network.rbac',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
      stat_prefix: 'tcp.',
      rules: { policies: { 'ns[demo]-policy[ports]-rule[0]': { permissions: [{ destination_port: port }], principals: [{ any: true }] } } },
    },
  };
}

function serverResources(tproxy: boolean): { listeners: Resource[]; clusters: Resource[] } {
  const inboundChain = (port: number, protocol = 'dubbo', codec: object = dubboCodec, networkFilters: object[] = []): object => ({
    name: `0.0.0.0_${port}`,
    filter_chain_match: { destination_port: { value: port } },
    filters: [
      ...networkFilters,
      metaFilter({
        statPrefix: `inbound|${port}||`,
        applicationProtocol: protocol,
        codec,
        routeConfig: { name: `inbound|${port}||`, routes: [{ route: { cluster: `inbound|${port}||` } }] },
        metaProtocolFilters: [router],
      }),
    ],
  });
  const originalDst = (name: string): Resource => ({
    '@type': CLUSTER_TYPE,
    name,
    type: 'ORIGINAL_DST',
    lb_policy: 'CLUSTER_PROVIDED',
    connect_timeout: { seconds: 1 },
    upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
  });
  return {
    listeners: [
      {
        '@type': LISTENER_TYPE,
        name: 'virtualInbound',
        address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
        traffic_direction: 'INBOUND',
        // istiod sets it in TPROXY mode: IP_TRANSPARENT, and the local address is the original destination.
        ...(tproxy ? { transparent: { value: true } } : {}),
        listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } }],
        filter_chains: [
          tcpChain('virtualInbound-blackhole', 'BlackHoleCluster', { destination_port: { value: 15006 } }),
          tcpChain('virtualInbound', 'InboundPassthroughCluster', { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: { value: 0 } }] }),
          inboundChain(20880, 'dubbo', dubboCodec, [allowOnlyPort(20880)]),
          inboundChain(20881),
          inboundChain(9090, 'thrift', thriftCodec),
        ],
      },
    ],
    clusters: [
      originalDst('InboundPassthroughCluster'),
      originalDst('inbound|20880||'),
      originalDst('inbound|20881||'),
      originalDst('inbound|9090||'),
      { '@type': CLUSTER_TYPE, name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: { seconds: 1 } },
    ],
  };
}

/** The bootstrap pilot-agent would render, reduced: ADS and MetaRDS over the agent's Unix socket. */
function sidecarBootstrap(pod: Pod, name: string, xdsSocket: string): object {
  const pipeCluster = (cluster: string): object => ({
    name: cluster,
    type: 'STATIC',
    connect_timeout: '1s',
    http2_protocol_options: {},
    load_assignment: { cluster_name: cluster, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: xdsSocket } } } }] }] },
  });
  return {
    node: { id: `sidecar~${pod.ip}~${name}.default~default.svc.cluster.local`, cluster: `${name}.default` },
    dynamic_resources: {
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', set_node_on_first_message_only: true, grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }] },
    },
    static_resources: { clusters: [pipeCluster('xds-grpc'), pipeCluster('aeraki-xds')] },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
    meltemi: { drain_timeout: '1s' },
  };
}

/**
 * REDIRECT: both pods as istio-iptables sets them up by default. TPROXY
 * (`sidecar.istio.io/interceptionMode: TPROXY`): the server pod's inbound capture is TPROXY
 * to a transparent virtualInbound, its sidecar runs as uid 0 / gid 1337 with NET_ADMIN.
 */
function suite(mode: 'REDIRECT' | 'TPROXY', subnet: string): void {
  describe(`interception between two pods (server inbound: iptables ${mode})`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-mesh-'));
    chmodSync(dir, 0o755);
    const tproxy = mode === 'TPROXY';
    const tag = `${process.pid % 100000}${tproxy ? 't' : 'r'}`;
    let pods: ReturnType<typeof createPods> | undefined;
    const planes: TestControlPlane[] = [];
    let app: PodProcess;
    let clientSidecar: PodProcess;
    let serverSidecar: PodProcess;

    async function call(cmd: object): Promise<{ ok: boolean; value?: unknown; error?: string }> {
      const line = app.nextLine(/^\{/, 20_000);
      app.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      return JSON.parse(await line) as { ok: boolean; value?: unknown; error?: string };
    }

    /** Admin /stats of a sidecar, read from inside its pod (admin is on the pod's 127.0.0.1). */
    function stats(pod: Pod): Map<string, number> {
      const text = pod.exec([process.execPath, '-e', "fetch('http://127.0.0.1:15000/stats').then(r => r.text()).then(t => process.stdout.write(t))"]);
      return new Map(text.split('\n').filter((l) => l.includes(': ')).map((l) => [l.slice(0, l.lastIndexOf(': ')), Number(l.slice(l.lastIndexOf(': ') + 2))]));
    }

    before(async () => {
      if (unavailable !== undefined) throw new Error(`mesh suite cannot run: ${unavailable}`);
      pods = createPods(tag, subnet, mode);
      const { client, server } = pods;
      const cRes = clientResources(server.ip);
      const sRes = serverResources(tproxy);
      const sockets = [path.join(dir, 'client-xds.sock'), path.join(dir, 'server-xds.sock')];
      for (const [i, res] of [cRes, sRes].entries()) {
        const cp = new TestControlPlane('istiod');
        await cp.start(0, { unixPath: sockets[i]! });
        cp.set(CLUSTER_TYPE, 'c1', res.clusters);
        cp.set(LISTENER_TYPE, 'l1', res.listeners);
        if ('routes' in res) cp.set(ROUTE_TYPE, 'r1', res.routes as Resource[]);
        planes.push(cp);
      }
      const servers = server.spawnNode(APP_UID, [APP, 'serve', 'server']);
      await servers.waitFor(/^ready$/);
      for (const [pod, name, socket] of [[client, 'client', sockets[0]!], [server, 'server', sockets[1]!]] as const) {
        const file = path.join(dir, `${name}-bootstrap.json`);
        writeFileSync(file, JSON.stringify(sidecarBootstrap(pod, name, socket)));
        chmodSync(file, 0o644);
        // TPROXY: istio-proxy runs as root (NET_ADMIN for IP_TRANSPARENT) with gid 1337, which iptables exempts.
        const uid = tproxy && name === 'server' ? 0 : PROXY_UID;
        const p = pod.spawnNode(uid, [CLI, '-c', file, '--concurrency', '1'], { MELTEMI_LOG_LEVEL: 'info' }, PROXY_UID);
        if (name === 'client') clientSidecar = p;
        else serverSidecar = p;
      }
      await clientSidecar.waitFor(/"listener":"virtualOutbound".*listener (added|started)/, 20_000);
      await clientSidecar.waitFor(/"listener":"240\.240\.0\.5_20880".*listener (added|started)/, 20_000);
      await clientSidecar.waitFor(/"listener":"240\.240\.0\.6_9090".*listener (added|started)/, 20_000);
      await serverSidecar.waitFor(/"listener":"virtualInbound".*listener (added|started)/, 20_000);
      app = client.spawnNode(APP_UID, [APP, 'client']);
      await app.waitFor(/^ready$/);
    });

    after(async () => {
      app?.child.stdin?.end();
      if (pods !== undefined) {
        await pods.client.stopAll();
        await pods.server.stopAll();
        pods.remove();
      }
      for (const cp of planes) cp.stop();
    });

    test('the app calls the VIP; routed by interface and version through both sidecars', async () => {
      const v1 = await call({ op: 'dubbo', address: `${VIP}:20880`, version: '1.0.0', method: 'sayHello', args: ['mesh'] });
      assert.deepEqual(v1, { ok: true, value: 'hello mesh from server-v1' }, JSON.stringify(v1));
      const v2 = await call({ op: 'dubbo', address: `${VIP}:20880`, version: '2.0.0', method: 'sayHello', args: ['mesh'] });
      assert.deepEqual(v2, { ok: true, value: 'hello mesh from server-v2' }, JSON.stringify(v2));
      const cs = stats(pods!.client);
      assert.ok((cs.get(`meta_protocol.dubbo.outbound|20880||${HOST}.request`) ?? 0) >= 2, 'the outbound VIP listener served both calls');
      const ss = stats(pods!.server);
      assert.ok((ss.get('meta_protocol.dubbo.inbound|20880||.request') ?? 0) >= 1, 'the inbound chain for 20880 served v1');
      assert.ok((ss.get('meta_protocol.dubbo.inbound|20881||.request') ?? 0) >= 1, 'the inbound chain for 20881 served v2');
      // The 20880 chain's RBAC allows only port 20880: it read the original destination, and ran on that chain only.
      assert.ok((ss.get('tcp.rbac.allowed') ?? 0) >= 1, 'the network RBAC of the 20880 chain allowed the v1 connection');
      assert.equal(ss.get('tcp.rbac.denied') ?? 0, 0, 'no connection was denied');
    });

    test('a Thrift call to its VIP passes both sidecars (npm thrift provider)', async () => {
      const r = await call({ op: 'thrift', host: THRIFT_VIP, port: 9090, text: 'hi' });
      assert.deepEqual(r, { ok: true, value: 'hi@server-thrift' }, JSON.stringify(r));
      assert.ok((stats(pods!.client).get(`meta_protocol.thrift.outbound|9090||${THRIFT_HOST}.request`) ?? 0) >= 1);
      assert.ok((stats(pods!.server).get('meta_protocol.thrift.inbound|9090||.request') ?? 0) >= 1);
    });

    test('HTTP and a TCP echo pass through untouched (PassthroughCluster, then InboundPassthroughCluster from 127.0.0.6)', async () => {
      const web = await call({ op: 'http', url: `http://${pods!.server.ip}:8080/hello?x=1` });
      assert.deepEqual(web, { ok: true, value: { status: 200, body: 'http ok from server: GET /hello?x=1 from 127.0.0.6' } }, JSON.stringify(web));
      const payload = 'echo ' + 'x'.repeat(100_000);
      const echo = await call({ op: 'echo', host: pods!.server.ip, port: 7000, text: payload });
      assert.equal(echo.ok, true, JSON.stringify(echo).slice(0, 300));
      assert.equal(echo.value, payload);
      const cs = stats(pods!.client);
      assert.ok((cs.get('tcp.PassthroughCluster.downstream_cx_total') ?? 0) >= 2);
      const ss = stats(pods!.server);
      assert.ok((ss.get('tcp.InboundPassthroughCluster.downstream_cx_total') ?? 0) >= 2);
    });

    test('no loop: every intercepted connection reaches each sidecar once', async () => {
      const before = stats(pods!.server).get('tcp.InboundPassthroughCluster.downstream_cx_total') ?? 0;
      for (let i = 0; i < 3; i++) assert.equal((await call({ op: 'echo', host: pods!.server.ip, port: 7000, text: `n${i}` })).value, `n${i}`);
      const ss = stats(pods!.server);
      assert.equal((ss.get('tcp.InboundPassthroughCluster.downstream_cx_total') ?? 0) - before, 3, 'a connection from 127.0.0.6 was captured again');
      assert.equal(ss.get('tcp.BlackHoleCluster.downstream_cx_total') ?? 0, 0);
    });

    test('a connection to 15001 itself (not redirected) goes to the BlackHole', async () => {
      const r = await call({ op: 'connect', host: '127.0.0.1', port: 15001 });
      assert.deepEqual(r, { ok: true, value: '' });
      assert.equal(stats(pods!.client).get('tcp.BlackHoleCluster.downstream_cx_no_route'), 1);
    });
  });
}

suite('REDIRECT', '10.77.0');
suite('TPROXY', '10.78.0');
