/**
 * Issue 13, defect 1 (the general rule): no exception thrown while decoding, filtering,
 * answering or timing out one connection's request may reach the process. A codec and a
 * filter that throw on purpose (test doubles: the fault is the point) must end in the
 * protocol's error reply or the close of that one connection, with `internal_error`
 * counted; other connections keep working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MessageType } from '../../codecs/api/index.js';
import type { CodecFactory, FrameReader, Message, ServerCodec } from '../../codecs/api/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { Filter, FilterExchange, FilterFactory } from '../../filters/api/index.js';
import { findCodec, registerCodec } from '../../proxy/codec-registry.js';
import { findFilter, registerFilter } from '../../proxy/filter-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startFaultUpstream } from '../helpers/fault-upstream.js';
import type { FaultUpstream } from '../helpers/fault-upstream.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';

const method = (m: Message): string => m.metadata.get('method') ?? '';

/** The Dubbo codec, except that it throws for requests whose method says so. */
const faultyCodec: CodecFactory = {
  name: 'test.faulty-dubbo',
  protocol: 'dubbo',
  apiVersion: dubboCodecFactory.apiVersion,
  createClientCodec: (ctx) => dubboCodecFactory.createClientCodec(ctx),
  createServerCodec(ctx): ServerCodec {
    const inner = dubboCodecFactory.createServerCodec(ctx);
    return {
      decode(reader: FrameReader) {
        const r = inner.decode(reader);
        if (r !== undefined && !(r instanceof Error) && r.type === MessageType.Request && method(r) === 'explodeDecode') {
          throw new RangeError('test codec: decode exploded');
        }
        return r;
      },
      setRequestId: (m, id) => inner.setRequestId(m, id),
      encode: (m, mutation) => inner.encode(m, mutation),
      errorReply(request, error, text) {
        if (method(request).startsWith('explodeReply')) throw new TypeError('test codec: errorReply exploded');
        return inner.errorReply(request, error, text);
      },
      heartbeatReply: (m) => inner.heartbeatReply(m),
    };
  },
};

/** A filter that throws, rejects, or throws on the response, by method name. */
const faultyFilter: Filter = {
  onRequest(ex: FilterExchange) {
    switch (ex.metadata.get('method')) {
      case 'filterThrows':
        throw new Error('test filter: onRequest threw');
      case 'filterRejects':
      case 'explodeReplyAsync':
        return Promise.reject(new Error('test filter: onRequest rejected'));
      default:
        return FilterStatus.Continue;
    }
  },
  onResponse(ex: FilterExchange) {
    if (ex.metadata.get('method') === 'responseThrows') throw new Error('test filter: onResponse threw');
  },
};
const faultyFilterFactory: FilterFactory = { name: 'test.faulty', create: () => () => faultyFilter };

describe('exceptions stay inside their connection', () => {
  let provider: Provider;
  let blackhole: FaultUpstream;
  let proxy: RunningMeltemi;
  let good: Consumer;

  before(async () => {
    if (findCodec(faultyCodec.name) === undefined) registerCodec(faultyCodec);
    if (findFilter(faultyFilterFactory.name) === undefined) registerFilter(faultyFilterFactory);
    provider = await startSofaProvider({ name: 'p' });
    blackhole = await startFaultUpstream('blackhole');
    const listener = metaProtocolListener({
      codec: faultyCodec.name,
      routes: [
        { name: 'late', match: { method: 'explodeReplyTimeout' }, cluster: 'blackhole', timeout: '0.1s' },
        { name: 'all', cluster: 'demo' },
      ],
      extra: { meta_protocol_filters: [{ name: 'test.faulty' }, { name: 'aeraki.meta_protocol.filters.router' }] },
    });
    proxy = await startMeltemi(bootstrapOf([listener], [staticCluster('demo', [provider.port]), staticCluster('blackhole', [blackhole.port])]));
    good = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
  });
  after(async () => {
    await good?.close();
    await proxy?.close();
    await Promise.all([provider?.close(), blackhole?.close()]);
  });

  /** The good connection still gets answers. */
  async function goodStillWorks(): Promise<void> {
    assert.equal(await good.invoke('sayHello', ['still']), 'hello still from p');
  }

  /** Sends one request of `m` on a fresh connection and returns it with what came back. */
  async function send(m: string): Promise<RawDubboClient> {
    const c = await RawDubboClient.connect(proxy.listenerPort('main'));
    c.write(dubboRequest({ id: 5, method: m }));
    await c.until(() => c.frames.length > 0 || c.closed, 5000, `an answer or a close for ${m}`);
    return c;
  }

  const errors = (): number => proxy.server.statsSnapshot().counters['meta_protocol.dubbo.main.internal_error'] ?? 0;

  test('a codec whose decode throws: that connection closes, counted', async () => {
    await goodStillWorks();
    const before = errors();
    const c = await send('explodeDecode');
    await c.until(() => c.closed, 3000, 'the close');
    assert.equal(c.frames.length, 0);
    assert.equal(errors(), before + 1);
    await goodStillWorks();
  });

  test('a filter that throws or rejects: the protocol error reply, connection kept, counted', async () => {
    for (const m of ['filterThrows', 'filterRejects']) {
      const before = errors();
      const c = await send(m);
      try {
        assert.equal(c.frames.length, 1, `${m}: one reply`);
        assert.equal(c.frames[0]!.id, 5n);
        assert.notEqual(c.frames[0]!.status, 20, `${m}: an error status`);
        assert.equal(errors(), before + 1, `${m}: counted`);
        // The same connection still serves a normal call.
        c.write(dubboRequest({ id: 6, method: 'sayHello', args: ['again'] }));
        await c.until(() => c.frames.length === 2, 3000, 'the next reply');
        assert.equal(c.frames[1]!.status, 20);
      } finally {
        c.close();
      }
    }
    await goodStillWorks();
  });

  test('a response filter that throws: an error reply, the shared upstream connection unharmed', async () => {
    const before = errors();
    const c = await send('responseThrows');
    try {
      assert.equal(c.frames.length, 1);
      assert.notEqual(c.frames[0]!.status, 20);
      assert.equal(errors(), before + 1);
      assert.equal(proxy.server.statsSnapshot().counters['cluster.demo.upstream_cx_internal_error'], 0, 'not charged to the upstream connection');
    } finally {
      c.close();
    }
    await goodStillWorks();
  });

  test('an error reply that throws, after a rejected filter and after a timeout: that connection closes', async () => {
    for (const m of ['explodeReplyAsync', 'explodeReplyTimeout']) {
      const before = errors();
      const c = await send(m);
      await c.until(() => c.closed, 3000, `${m}: the close`);
      assert.equal(c.frames.length, 0, `${m}: no reply could be built`);
      assert.ok(errors() >= before + 1, `${m}: counted`);
    }
    await goodStillWorks();
  });
});
