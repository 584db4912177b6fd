import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from './control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from './resources.js';

test('smoke', async () => {
  const v1 = await startSofaProvider({ name: 'v1' });
  const cp = new TestControlPlane('istiod');
  await cp.start();
  cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
  cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port])]);
  cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880', typedStruct: true })]);
  cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 'v1' }])]);
  const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
  try {
    await waitFor('listener', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1);
    const c = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort('dubbo')}`);
    assert.equal(await c.invoke('sayHello', [java.String('x')]), 'hello x from v1');
    await c.close();
    console.log(JSON.stringify(cp.requests.map((r) => [r.method, r.request.type_url.split('.').pop(), (r.request as {version_info?: string}).version_info, (r.request as {response_nonce?: string}).response_nonce, (r.request as {resource_names?: string[]}).resource_names, (r.request as {node?: object}).node !== undefined])));
  } finally {
    await m.close();
    cp.stop();
    await v1.close();
  }
});
