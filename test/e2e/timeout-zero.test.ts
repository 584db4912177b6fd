/**
 * `request_timeout: 0s` (and a route `timeout: 0s`) disables the timeout, as in Envoy
 * (issue 13 defect 9): a slow upstream's answer still reaches the client. Before, a 0 ms
 * deadline answered every call with a timeout at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';

describe('a timeout of 0s disables the timeout', () => {
  // One paused upstream per case: once resumed, an upstream answers at once.
  const upstreams: Record<string, FaultUpstream> = {};
  let proxy: RunningMeltemi;
  before(async () => {
    upstreams['routeZero'] = await startFaultUpstream('pause-then-echo');
    upstreams['sayHello'] = await startFaultUpstream('pause-then-echo');
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [
              { name: 'route-zero', match: { method: 'routeZero' }, cluster: 'slow-route', timeout: '0s' },
              { name: 'listener-default', cluster: 'slow-listener' },
            ],
            extra: { request_timeout: '0s' },
          }),
        ],
        [staticCluster('slow-route', [upstreams['routeZero'].port]), staticCluster('slow-listener', [upstreams['sayHello'].port])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    for (const u of Object.values(upstreams)) await u.close();
  });

  for (const [what, method] of [
    ['request_timeout: 0s', 'sayHello'],
    ['a route timeout: 0s', 'routeZero'],
  ] as const) {
    test(`${what}: an answer that takes 300 ms still arrives`, async () => {
      const c = await RawDubboClient.connect(proxy.listenerPort('main'));
      try {
        c.write(dubboRequest({ id: 5, method, args: ['x'] }));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(c.frames.length, 0, `no timeout reply while the upstream is slow: ${JSON.stringify(c.frames.map((f) => f.status))}`);
        upstreams[method]!.resume();
        await c.until(() => c.frames.length === 1, 3000, 'the upstream answer');
        assert.equal(c.frames[0]!.status, 20);
        assert.equal(proxy.server.listenerStats('main').request_timeout, 0);
      } finally {
        c.close();
      }
    });
  }
});
