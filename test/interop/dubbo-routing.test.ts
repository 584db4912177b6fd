/**
 * Routing real Dubbo traffic: sofa-rpc-node and apache-dubbo-js clients, sofa-rpc-node
 * providers, Meltemi in between.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { createDirectlyDubbo } from '../peers/dubbo/apache-dubbo-js.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';

describe('routing through the proxy', () => {
  let v1: Provider;
  let v2: Provider;
  let plus: Provider;
  let blue: Provider;
  let proxy: RunningMeltemi;
  let address: string;

  before(async () => {
    v1 = await startSofaProvider({ name: 'v1' });
    v2 = await startSofaProvider({ name: 'v2', version: '2.0.0' });
    plus = await startSofaProvider({ name: 'plus' });
    blue = await startSofaProvider({ name: 'blue', group: 'blue' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [
              { name: 'by-method', match: { method: 'plus' }, cluster: 'plus' },
              { name: 'by-attachment', match: { group: 'blue' }, cluster: 'blue' },
              { name: 'by-version', match: { interface: 'com.example.DemoService', version: '2.0.0' }, cluster: 'v2' },
              { name: 'by-interface', match: { interface: 'com.example.DemoService' }, cluster: 'v1' },
            ],
          }),
        ],
        [staticCluster('v1', [v1.port]), staticCluster('v2', [v2.port]), staticCluster('plus', [plus.port]), staticCluster('blue', [blue.port])],
      ),
    );
    address = `127.0.0.1:${proxy.listenerPort('main')}`;
  });
  after(async () => {
    await proxy.close();
    await Promise.all([v1.close(), v2.close(), plus.close(), blue.close()]);
  });

  test('routes by interface and by version (sofa-rpc-node client)', async () => {
    const c1 = await createSofaConsumer(address);
    const c2 = await createSofaConsumer(address, { version: '2.0.0' });
    try {
      assert.equal(await c1.invoke('sayHello', [java.String('a')]), 'hello a from v1');
      assert.equal(await c2.invoke('sayHello', [java.String('b')]), 'hello b from v2');
    } finally {
      await c1.close();
      await c2.close();
    }
  });

  test('routes by method', async () => {
    const c = await createSofaConsumer(address);
    try {
      assert.equal(await c.invoke('plus', [java.int(40), java.int(2)]), 42);
      assert.equal(plus.calls.filter((x) => x.method === 'plus').length, 1);
      assert.equal(v1.calls.filter((x) => x.method === 'plus').length, 0);
    } finally {
      await c.close();
    }
  });

  test('routes by an attachment (group), which needs the skip over the arguments', async () => {
    const c = await createSofaConsumer(address, { group: 'blue' });
    try {
      assert.equal(await c.invoke('sayHello', [java.String('g')]), 'hello g from blue');
    } finally {
      await c.close();
    }
  });

  test('apache-dubbo-js DirectlyDubbo client: value, int and business error', async () => {
    const c = createDirectlyDubbo(address);
    try {
      const hello = await c.sayHello('js');
      assert.equal(hello.err, null);
      assert.equal(hello.res, 'hello js from v1');
      const sum = await c.plus(1, 2);
      assert.equal(sum.err, null);
      assert.equal(sum.res, 3);
      const boom = await c.boom();
      assert.ok(boom.err instanceof Error, 'a provider exception surfaces as an error');
      assert.match(boom.err.message, /boom from v1/);
    } finally {
      c.close();
    }
  });

  test('per-route counters follow the calls', () => {
    const stats = proxy.server.routeStats('main');
    const byName = new Map(stats.map((s) => [s.name, s]));
    assert.ok((byName.get('by-method')?.responses ?? 0) >= 2);
    assert.ok((byName.get('by-version')?.responses ?? 0) >= 1);
    assert.ok((byName.get('by-attachment')?.responses ?? 0) >= 1);
  });
});

describe('weighted split', () => {
  let a: Provider;
  let b: Provider;
  let proxy: RunningMeltemi;
  let consumer: Consumer;

  before(async () => {
    a = await startSofaProvider({ name: 'a' });
    b = await startSofaProvider({ name: 'b' });
    proxy = await startMeltemi(
      bootstrapOf([metaProtocolListener({ routes: [{ name: 'split', weighted: { a: 80, b: 20 } }] })], [staticCluster('a', [a.port]), staticCluster('b', [b.port])]),
    );
    consumer = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
  });
  after(async () => {
    await consumer.close();
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });

  test('an 80/20 split lands within 5 points over 1000 calls', async () => {
    const n = 1000;
    const replies: string[] = [];
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => consumer.invoke('sayHello', [java.String(`c${i + j}`)])));
      replies.push(...(batch as string[]));
    }
    const toA = replies.filter((r) => r.endsWith('from a')).length;
    const toB = replies.filter((r) => r.endsWith('from b')).length;
    assert.equal(toA + toB, n);
    // Binomial(1000, 0.8): sd = 12.6 calls; 5 points = 50 calls is about 4 sd.
    assert.ok(Math.abs(toA / n - 0.8) < 0.05, `share to a was ${toA / n}`);
  });
});
