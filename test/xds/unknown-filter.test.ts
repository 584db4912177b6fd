/**
 * A listener naming a filter Meltemi lacks is NACKed alone: the other listeners of the same
 * push apply (as Envoy does), and an unknown filter marked is_optional is skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import { cla, edsCluster, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const MPP = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

/** `listener` with `filters` before its router (binary Any, or a TypedStruct value). */
function withFilters(listener: Resource, filters: object[]): Resource {
  const chain = (listener['filter_chains'] as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!;
  const tc = chain.filters[0]!.typed_config;
  const proxy = (tc['@type'] === MPP ? tc : tc['value']) as Record<string, unknown>;
  const key = 'meta_protocol_filters' in proxy ? 'meta_protocol_filters' : 'metaProtocolFilters';
  proxy[key] = [...filters, ...(proxy[key] as object[])];
  return listener;
}

describe('xDS: unknown filters', () => {
  let v1: Provider;
  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
  });
  after(async () => {
    await v1.close();
  });

  for (const typedStruct of [false, true]) {
    test(`only the listener naming an unknown filter is NACKed; optional ones are skipped (${typedStruct ? 'TypedStruct' : 'Any'})`, async () => {
      const cp = new TestControlPlane('istiod');
      await cp.start();
      cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
      cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [v1.port])]);
      cp.set(LISTENER_TYPE, 'l1', [mppListener('good', { typedStruct })]);
      const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
      try {
        await waitFor('first config', () => m.server.listenerNames().includes('good') && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
        cp.set(LISTENER_TYPE, 'l2', [
          mppListener('good', { typedStruct }),
          withFilters(mppListener('bad', { typedStruct }), [{ name: 'acme.filters.auth' }]),
          withFilters(mppListener('optional', { typedStruct }), [typedStruct ? { name: 'acme.filters.auth', isOptional: true } : { name: 'acme.filters.auth', is_optional: true }]),
        ]);
        const lds = (): DiscoveryRequest[] => cp.requestsOf(LISTENER_TYPE).map((r) => r.request as DiscoveryRequest);
        await waitFor('LDS NACK', () => lds().some((r) => r.error_detail != null));
        const msg = lds().find((r) => r.error_detail != null)!.error_detail!.message;
        assert.match(msg, /listener bad.*unknown filter acme\.filters\.auth \(known: .*aeraki\.meta_protocol\.filters\.ratelimit/);
        assert.doesNotMatch(msg, /listener (good|optional)/);
        await waitFor('the optional listener applied', () => m.server.listenerNames().includes('optional'));
        assert.deepEqual(m.server.listenerNames().sort(), ['good', 'optional']);
        const c = await createSofaConsumer(`127.0.0.1:${m.server.listenerPort('optional')}`);
        try {
          assert.equal(await c.invoke('sayHello', [java.String('o')]), 'hello o from v1');
        } finally {
          await c.close();
        }
      } finally {
        await m.close();
        cp.stop();
      }
    });
  }
});
