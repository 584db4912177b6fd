/**
 * Every stat name Meltemi makes is snake_case, as Envoy's and Aeraki's are (dashboards and
 * Prometheus rules match them by name): a route's `local_replies`, not `localReplies`. The
 * test drives a listener with filters, a route that ends in a local reply and a cluster with
 * outlier detection, then reads every name /stats has; the only parts of a name not made by
 * Meltemi are the names the config gave, and those are lower case here too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';

const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

test('every stat name is snake_case', async () => {
  const m = await startMeltemi(
    bootstrapOf(
      [
        metaProtocolListener({
          name: 'main',
          routes: [{ name: 'to-dead', cluster: 'dead' }],
          extra: {
            meta_protocol_filters: [
              {
                name: 'aeraki.meta_protocol.filters.local_ratelimit',
                config: {
                  '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.local_ratelimit.v1alpha.LocalRateLimit',
                  stat_prefix: 'limit',
                  token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: '1s' },
                },
              },
              { name: 'aeraki.meta_protocol.filters.istio_stats', config: { destination_service: 'demo.shop.svc.cluster.local' } },
              { name: 'aeraki.meta_protocol.filters.router' },
            ],
          },
        }),
      ],
      // Port 1: nothing listens, so the call ends in a local reply counted on the route.
      [staticCluster('dead', [1], { outlier_detection: { consecutive_5xx: 1 }, circuit_breakers: { thresholds: [{ max_requests: 10 }] } })],
      undefined,
      ADMIN,
    ),
  );
  const c = await RawDubboClient.connect(m.listenerPort('main'));
  try {
    c.write(dubboRequest({ id: 1 }));
    await c.until(() => c.frames.length === 1, 5000, 'the local reply');
    const text = await (await fetch(`http://127.0.0.1:${m.server.adminPort}/stats`)).text();
    const names = text
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => l.slice(0, l.indexOf(': ')));
    assert.ok(names.length > 50, `${names.length} stats`);
    assert.ok(names.includes('meta_protocol.dubbo.main.route.to-dead.local_replies'), names.filter((n) => n.includes('route')).join('\n'));
    // Tags (istio_requests_total{reporter="destination",...}) carry label values, not names.
    const bad = names.map((n) => n.replace(/\{.*\}$/, '')).filter((n) => !/^[a-z0-9_.:-]+$/.test(n));
    assert.deepEqual(bad, []);
  } finally {
    c.socket.destroy();
    await m.close();
  }
});
