/**
 * The static HTTP listeners of Istio's bootstrap (an HTTP connection manager with an inline
 * route_config): prefix and path routes to static clusters, TCP and Unix-socket endpoints,
 * Envoy's local replies, and refusal by name of what Meltemi cannot honour.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { MeltemiServer } from '../../proxy/server.js';
import { freePort } from '../helpers/free-port.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function hcmListener(name: string, statPrefix: string, routes: object[], extra: Record<string, unknown> = {}, httpFilters: object[] = [ROUTER]): object {
  return {
    name,
    address: { socket_address: { protocol: 'TCP', address: '127.0.0.1', port_value: 0 } },
    ignore_global_conn_limit: true,
    bypass_overload_manager: true,
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: { '@type': HCM, codec_type: 'AUTO', stat_prefix: statPrefix, route_config: { virtual_hosts: [{ name: 'backend', domains: ['*'], routes }] }, http_filters: httpFilters, ...extra },
          },
        ],
      },
    ],
  };
}

function cluster(name: string, address: object): object {
  return { name, type: 'STATIC', connect_timeout: '0.250s', load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] } };
}

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-http-listeners-'));
const agentSocket = path.join(dir, 'agent.sock');
let agent: http.Server;
let server: MeltemiServer;
let deadPort: number;

before(async () => {
  // pilot-agent's status port stand-in, on a Unix socket (a `pipe` endpoint).
  agent = http.createServer((req, res) => {
    res.writeHead(req.url?.startsWith('/healthz/ready') === true ? 200 : 418, { 'x-agent': 'yes' });
    res.end(`agent saw ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => agent.listen(agentSocket, resolve));
  const adminPort = await freePort();
  deadPort = await freePort();
  const config = compileBootstrap({
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        hcmListener('stats', 'stats', [{ match: { prefix: '/stats/prometheus' }, route: { cluster: 'prometheus_stats' } }]),
        hcmListener('agent', 'agent', [
          { match: { prefix: '/healthz/ready' }, route: { cluster: 'agent' } },
          { match: { path: '/exact' }, route: { cluster: 'agent' } },
          { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
        ]),
      ],
      clusters: [
        cluster('prometheus_stats', { socket_address: { address: '127.0.0.1', port_value: adminPort } }),
        cluster('agent', { pipe: { path: agentSocket } }),
        cluster('dead', { socket_address: { address: '127.0.0.1', port_value: deadPort } }),
      ],
    },
  });
  server = await MeltemiServer.start(config);
});

after(async () => {
  await server.close();
  await new Promise<void>((resolve) => agent.close(() => resolve()));
});

async function get(listener: string, p: string): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${server.listenerPort(listener)}${p}`);
  return { status: r.status, body: await r.text(), headers: r.headers };
}

test('the Prometheus route reaches the admin through its static cluster', async () => {
  const r = await get('stats', '/stats/prometheus');
  assert.equal(r.status, 200);
  assert.match(r.body, /^# TYPE /m);
});

test('the readiness route reaches a Unix-socket cluster with method, path and query intact', async () => {
  const r = await get('agent', '/healthz/ready?probe=1');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'agent saw GET /healthz/ready?probe=1');
  assert.equal(r.headers.get('x-agent'), 'yes');
});

test('a path route matches the path without its query, and nothing longer', async () => {
  assert.equal((await get('agent', '/exact?x=1')).status, 418, 'routed to the agent, which answers 418 off /healthz');
  assert.equal((await get('agent', '/exactly')).status, 404);
});

test("no route is Envoy's bare 404; an upstream that refuses is Envoy's 503 text", async () => {
  const none = await get('stats', '/ready');
  assert.equal(none.status, 404);
  assert.equal(none.body, '');
  const dead = await get('agent', '/dead');
  assert.equal(dead.status, 503);
  assert.match(dead.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
});

test('the HTTP listeners count under Envoy\'s names', async () => {
  await get('agent', '/healthz/ready');
  const snap = server.statsSnapshot();
  assert.ok((snap.counters['http.agent.downstream_rq_total'] ?? 0) >= 1);
  assert.ok((snap.counters['http.agent.downstream_rq_2xx'] ?? 0) >= 1);
  assert.ok((snap.counters['http.stats.no_route'] ?? 0) >= 1);
  assert.ok((snap.counters['http.agent.downstream_rq_5xx'] ?? 0) >= 1);
  assert.ok(`listener.127.0.0.1_${server.listenerPort('agent')}.downstream_cx_active` in snap.gauges);
});

test('what an HTTP listener cannot honour is refused by name', () => {
  const compressor = { name: 'envoy.filters.http.compressor.gzip', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor' } };
  const cases: [object, RegExp][] = [
    [hcmListener('gz', 'gz', [{ match: { prefix: '/' }, route: { cluster: 'admin' } }], {}, [compressor, ROUTER]), /HTTP filter 'envoy\.filters\.http\.compressor\.gzip' is not supported/],
    [hcmListener('nc', 'nc', [{ match: { prefix: '/' }, route: { cluster: 'outbound|80||x' } }]), /'outbound\|80\|\|x' is not a static cluster/],
    [hcmListener('rr', 'rr', [{ match: { prefix: '/' }, route: { cluster: 'admin' } }], { use_remote_address: true }), /typed_config\.use_remote_address: not supported by Meltemi/],
    [hcmListener('h2', 'h2', [{ match: { prefix: '/' }, route: { cluster: 'admin' } }], { codec_type: 'HTTP2' }), /codec_type/],
    [hcmListener('rx', 'rx', [{ match: { safe_regex: { regex: '.*' } }, route: { cluster: 'admin' } }]), /match\.safe_regex: not supported by Meltemi/],
  ];
  for (const [listener, why] of cases) {
    assert.throws(() => compileBootstrap({ static_resources: { listeners: [listener], clusters: [cluster('admin', { socket_address: { address: '127.0.0.1', port_value: 1 } })] } }), why);
  }
});

test('a MetaProtocol listener cannot bypass the connection limits', () => {
  const l = {
    name: 'mp',
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    ignore_global_conn_limit: true,
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.meta_protocol_proxy', typed_config: { '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy', stat_prefix: 'mp', codec: { name: 'aeraki.meta_protocol.codec.dubbo' }, route_config: { routes: [] } } }] }],
  };
  assert.throws(() => compileBootstrap({ static_resources: { listeners: [l] } }), /ignore_global_conn_limit: not supported on a MetaProtocol listener/);
});
