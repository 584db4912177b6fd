/**
 * Message mutation: the route's request_mutation reaches the provider as attachments, and
 * its response_mutation reaches clients that read response attachments (dubbo 2.0.2), which
 * Aeraki never applies.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, hessianDecodeAll } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createDirectlyDubbo } from '../peers/dubbo/apache-dubbo-js.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

let provider: Provider;
let proxy: RunningMeltemi;

before(async () => {
  provider = await startSofaProvider({ name: 'm' });
  proxy = await startMeltemi(
    bootstrapOf(
      [
        metaProtocolListener({
          routes: [{ name: 'all', cluster: 'demo', requestMutation: { 'x-tenant': 'blue', application: 'rewritten' }, responseMutation: { 'x-served-by': 'meltemi' } }],
        }),
      ],
      [staticCluster('demo', [provider.port])],
    ),
  );
});
after(async () => {
  await proxy.close();
  await provider.close();
});

test('request mutation: the provider sees the added and the replaced attachments', async () => {
  const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
  try {
    assert.equal(await c.invoke('sayHello', [java.String('mut')]), 'hello mut from m');
    const call = provider.calls.at(-1)!;
    assert.equal(call.attachments['x-tenant'], 'blue');
    assert.equal(call.attachments['application'], 'rewritten');
  } finally {
    await c.close();
  }
});

test('response mutation: a 2.0.2 client gets the attachments (result flag 4), decoded by hessian.js', async () => {
  const c = await RawDubboClient.connect(proxy.listenerPort('main'));
  try {
    c.write(dubboRequest({ id: 5, args: ['resp'] }));
    await c.until(() => c.frames.length === 1);
    const [flag, value, attachments] = hessianDecodeAll(c.frames[0]!.body);
    assert.equal(flag, 4, 'RESPONSE_VALUE_WITH_ATTACHMENTS');
    assert.equal(value, 'hello resp from m');
    assert.deepEqual(attachments, { 'x-served-by': 'meltemi' });
  } finally {
    c.close();
  }
});

test('the apache-dubbo-js client still reads the value of a mutated response', async () => {
  const c = createDirectlyDubbo(`127.0.0.1:${proxy.listenerPort('main')}`);
  try {
    const r = await c.sayHello('js');
    assert.equal(r.err, null);
    assert.equal(r.res, 'hello js from m');
  } finally {
    c.close();
  }
});

test('a client that does not read response attachments (sofa, dubbo 5.3.0) gets the bytes unchanged', async () => {
  const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
  try {
    assert.equal(await c.invoke('plus', [java.int(2), java.int(3)]), 5);
  } finally {
    await c.close();
  }
});
