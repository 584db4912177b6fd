/**
 * Issue 13, defect 9: Go's Thrift library sends `oneway` methods as CALL messages. A
 * listener that declares them (`codec.config.onewayMethods`) forwards them as one-way: no
 * wait, no timeout, no unsolicited TApplicationException before the client's next reply.
 * And one client connection's calls to a host keep to one upstream connection, so a
 * one-way call and the call after it reach the server in the order sent, even with
 * several upstream connections per host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { T_CALL, T_REPLY, ThriftRawClient } from '../helpers/thrift-raw-client.js';
import { startServer } from './peers/thrift/peers.js';
import type { RunningPeer } from './peers/thrift/peers.js';
import { thriftListener } from './thrift-peers-setup.js';

const CODEC = { transport: 'framed', protocol: 'binary' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Thrift listener with `extra` merged into its MetaProtocolProxy config. */
function listener(name: string, codecConfig: Record<string, unknown>, extra: Record<string, unknown>): object {
  const l = thriftListener(name, [{ name: 'all', cluster: 'thrift' }], codecConfig) as {
    filter_chains: Array<{ filters: Array<{ typed_config: Record<string, unknown> }> }>;
  };
  Object.assign(l.filter_chains[0]!.filters[0]!.typed_config, extra);
  return l;
}

describe('Thrift one-way methods sent as CALL, and per-client ordering', () => {
  let server: RunningPeer;
  let proxy: RunningMeltemi;

  before(async () => {
    server = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 't' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          listener('declared', { ...CODEC, onewayMethods: ['fire'] }, { request_timeout: '0.2s' }),
          listener('qualified', { ...CODEC, onewayMethods: ['Other:fire', 'Echo:fire'] }, { request_timeout: '0.2s' }),
          listener('ordered', { ...CODEC, onewayMethods: ['fire'] }, { request_timeout: '10s' }),
        ],
        [staticCluster('thrift', [server.port])],
        { upstream_connections_per_host: 4 },
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await server?.close();
  });

  test('a declared one-way CALL is forwarded, counted, never timed out nor answered', async () => {
    const stats = proxy.server.listenerStats('declared');
    const timeoutsBefore = stats.request_timeout;
    const c = await ThriftRawClient.connect(proxy.listenerPort('declared'));
    try {
      c.send('fire', 'go-oneway-1', T_CALL);
      // Past request_timeout: an undeclared CALL would get a TApplicationException now.
      await sleep(500);
      const r = await c.call('echo', 'next');
      assert.deepEqual(c.replies.length, 1, `only the echo was answered: ${JSON.stringify(c.replies.map((x) => [x.type, x.name]))}`);
      assert.equal(r.type, T_REPLY);
      assert.equal(r.text, 'next@t');
      assert.ok((await c.call('echo', '!fired')).text.split(',').includes('go-oneway-1'), 'the server got the one-way call');
      assert.equal(stats.request_timeout, timeoutsBefore, 'no timeout counted');
      assert.ok(stats.request_oneway >= 1, 'counted as one-way');
    } finally {
      c.close();
    }
  });

  test('names can be given as service:method; other methods stay two-way', async () => {
    const c = await ThriftRawClient.connect(proxy.listenerPort('qualified'));
    try {
      // Unmultiplexed calls have no service: `Echo:fire` does not match plain `fire`, so it
      // is two-way and times out; the error names the method.
      c.send('fire', 'plain', T_CALL);
      await sleep(500);
      assert.equal(c.replies.length, 1);
      assert.equal(c.replies[0]!.name, 'fire');
      assert.equal((await c.call('Echo:fire', 'qualified-1', 300).catch(() => ({ text: 'none' }))).text, 'none');
      assert.equal(c.replies.length, 1, 'the qualified one-way call got no answer');
    } finally {
      c.close();
    }
  });

  test('each client connection keeps its order over several upstream connections', async () => {
    // Several clients at once, so the upstream connections carry uneven loads: each sends
    // a large one-way note, then a small call asking which notes arrived. On another
    // upstream connection than its note, the small call overtakes it.
    const clients = await Promise.all(Array.from({ length: 4 }, () => ThriftRawClient.connect(proxy.listenerPort('ordered'))));
    try {
      const rounds = 6;
      await Promise.all(
        clients.map(async (c, k) => {
          const calls: Promise<{ text: string }>[] = [];
          for (let i = 0; i < rounds; i++) {
            c.send('fire', `c${k}r${i}-${'z'.repeat(30_000)}`, T_CALL);
            calls.push(c.call('echo', '!fired', 10_000));
          }
          const replies = await Promise.all(calls);
          replies.forEach((r, i) => {
            const notes = new Set(r.text.split(',').map((n) => n.slice(0, n.indexOf('-'))));
            for (let j = 0; j <= i; j++) assert.ok(notes.has(`c${k}r${j}`), `client ${k}: reply ${i} sees its one-way note ${j}: ${[...notes].join(' ')}`);
          });
        }),
      );
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe('config', () => {
  test('onewayMethods that is not a list of names is refused, naming the field', async () => {
    await assert.rejects(
      startMeltemi(bootstrapOf([listener('bad', { ...CODEC, onewayMethods: 'fire' }, {})], [staticCluster('thrift', [1])])),
      /codec\.config\.onewayMethods: expected a list of method names/,
    );
  });

  test('keep_client_order must be a boolean', async () => {
    await assert.rejects(
      startMeltemi(bootstrapOf([listener('bad', CODEC, {})], [staticCluster('thrift', [1])], { keep_client_order: 'yes' })),
      /keep_client_order/,
    );
  });
});
