/**
 * Issue 13, defect 0: one frame bigger than write_buffer_high_watermark used to stall its
 * connection for good. The proxy paused reading and waited for a 'drain' that Node emits
 * only after a write() returned false; a write the kernel takes whole returns true. Every
 * protocol here sends frames of 1x, 2x and 7x the watermark (and 100 KB at a 64 KiB
 * watermark) both ways through real or project peers, then small calls on the same
 * connection, which must still be answered; each pause is matched by a resume.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { findCodec, registerCodec } from '../../proxy/codec-registry.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { ThriftRawClient } from '../helpers/thrift-raw-client.js';
import { BrpcClient, startBrpcServer } from '../peers/brpc-peer.js';
import type { BrpcServer } from '../peers/brpc-peer.js';
import { createSofaConsumer, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { TrpcClient, startTrpcServer } from '../peers/trpc-peer.js';
import type { TrpcServer } from '../peers/trpc-peer.js';
import { startServer } from './peers/thrift/peers.js';
import type { RunningPeer } from './peers/thrift/peers.js';
import { thriftListener } from './thrift-peers-setup.js';

const WATERMARK = 64 * 1024;
/** 1x, 2x and 7x the watermark, and the 100 KB request at a 64 KiB watermark. */
const SIZES = [WATERMARK, 2 * WATERMARK, 7 * WATERMARK, 100_000];

for (const c of [brpcCodecFactory, trpcCodecFactory]) if (findCodec(c.name) === undefined) registerCodec(c);

/** Resolves `p`, or fails naming `what` after `ms` (a stalled connection never answers). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (connection stalled)`)), ms);
    }),
  ]);
}

describe('frames bigger than the write watermark, every protocol, both directions', () => {
  let provider: Provider;
  let thrift: RunningPeer;
  let brpc: BrpcServer;
  let trpc: TrpcServer;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startSofaProvider({ name: 'p' });
    thrift = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 't' });
    brpc = await startBrpcServer({ name: 'b' });
    trpc = await startTrpcServer({ name: 'r' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({ name: 'dubbo', routes: [{ name: 'all', cluster: 'dubbo' }] }),
          thriftListener('thrift', [{ name: 'all', cluster: 'thrift' }], { transport: 'framed', protocol: 'binary' }),
          metaProtocolListener({ name: 'brpc', codec: brpcCodecFactory.name, protocol: 'brpc', routes: [{ name: 'all', cluster: 'brpc' }] }),
          metaProtocolListener({ name: 'trpc', codec: trpcCodecFactory.name, protocol: 'trpc', routes: [{ name: 'all', cluster: 'trpc' }] }),
        ],
        [staticCluster('dubbo', [provider.port]), staticCluster('thrift', [thrift.port]), staticCluster('brpc', [brpc.port]), staticCluster('trpc', [trpc.port])],
        { write_buffer_high_watermark: WATERMARK, upstream_connections_per_host: 1 },
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([provider?.close(), thrift?.close(), brpc?.close(), trpc?.close()]);
  });

  /** Every pause of the listener's clients was resumed, and at least one happened. */
  function assertResumed(listener: string): void {
    const s = proxy.server.listenerStats(listener);
    assert.ok(s.downstream_pause >= 1, `${listener}: a big frame paused the client (downstream_pause ${s.downstream_pause})`);
    assert.equal(s.downstream_resume, s.downstream_pause, `${listener}: every pause was resumed`);
  }

  test('dubbo (sofa-rpc-node consumer and provider)', async () => {
    const consumer = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('dubbo')}`);
    try {
      for (const size of SIZES) {
        const big = 'd'.repeat(size);
        const reply = await within(consumer.invoke('sayHello', [big], 10_000), 10_000, `dubbo ${size} B`);
        assert.equal(reply, `hello ${big} from p`);
        for (let i = 0; i < 3; i++) assert.equal(await within(consumer.invoke('plus', [i, 1]), 3000, `dubbo small call after ${size} B`), i + 1);
      }
      assertResumed('dubbo');
    } finally {
      await consumer.close();
    }
  });

  test('thrift framed binary (npm thrift server)', async () => {
    const c = await ThriftRawClient.connect(proxy.listenerPort('thrift'));
    try {
      for (const size of SIZES) {
        const big = 't'.repeat(size);
        const reply = await within(c.call('echo', big, 10_000), 10_000, `thrift ${size} B`);
        assert.equal(reply.text, `${big}@t`);
        for (let i = 0; i < 3; i++) assert.equal((await within(c.call('echo', `s${i}`), 3000, `thrift small call after ${size} B`)).text, `s${i}@t`);
      }
      assertResumed('thrift');
    } finally {
      c.close();
    }
  });

  test('bRPC baidu_std (message and attachment echoed)', async () => {
    const c = await BrpcClient.connect(proxy.listenerPort('brpc'));
    try {
      for (const size of SIZES) {
        const big = 'b'.repeat(size);
        const r = await within(c.call(big, { attachment: Buffer.alloc(size, 7) }), 10_000, `brpc ${size} B`);
        assert.equal(r.errorCode, 0, r.errorText);
        assert.equal(r.message, `b:${big}`);
        assert.equal(r.attachment.length, size);
        for (let i = 0; i < 3; i++) assert.equal((await within(c.call(`s${i}`), 3000, `brpc small call after ${size} B`)).message, `b:s${i}`);
      }
      assertResumed('brpc');
    } finally {
      c.close();
    }
  });

  test('tRPC unary', async () => {
    const c = await TrpcClient.connect(proxy.listenerPort('trpc'));
    try {
      for (const size of SIZES) {
        const big = 'r'.repeat(size);
        const r = await within(c.call(big), 10_000, `trpc ${size} B`);
        assert.equal(r.msg, `r:${big}`);
        for (let i = 0; i < 3; i++) assert.equal((await within(c.call(`s${i}`), 3000, `trpc small call after ${size} B`)).msg, `r:s${i}`);
      }
      assertResumed('trpc');
    } finally {
      c.close();
    }
  });
});

describe('the default 1 MiB watermark', () => {
  let provider: Provider;
  let thrift: RunningPeer;
  let proxy: RunningMeltemi;

  before(async () => {
    provider = await startSofaProvider({ name: 'p' });
    thrift = await startServer({ kind: 'node', transport: 'framed', protocol: 'binary', name: 't' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({ name: 'dubbo', routes: [{ name: 'all', cluster: 'dubbo' }] }),
          thriftListener('thrift', [{ name: 'all', cluster: 'thrift' }], { transport: 'framed', protocol: 'binary' }),
        ],
        [staticCluster('dubbo', [provider.port]), staticCluster('thrift', [thrift.port])],
      ),
    );
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([provider?.close(), thrift?.close()]);
  });

  test('a 2 MB Dubbo payload and a 1,049,000-byte Thrift call, then small calls', async () => {
    const consumer = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('dubbo')}`);
    const c = await ThriftRawClient.connect(proxy.listenerPort('thrift'));
    try {
      const big = 'x'.repeat(2_000_000);
      assert.equal(await within(consumer.invoke('sayHello', [big], 10_000), 10_000, 'dubbo 2 MB'), `hello ${big} from p`);
      assert.equal(await within(consumer.invoke('plus', [40, 2]), 3000, 'dubbo small call after 2 MB'), 42);
      // 1,049,000 bytes on the wire: the frame, its 4-byte length and the message header.
      const arg = 'y'.repeat(1_049_000 - 4 - 8 - 4 - 4 - 7 - 1 - 4);
      assert.equal((await within(c.call('echo', arg, 10_000), 10_000, 'thrift 1,049,000 B')).text, `${arg}@t`);
      assert.equal((await within(c.call('echo', 'small'), 3000, 'thrift small call after 1 MB')).text, 'small@t');
      for (const l of ['dubbo', 'thrift']) {
        const s = proxy.server.listenerStats(l);
        assert.ok(s.downstream_pause >= 1, `${l} paused`);
        assert.equal(s.downstream_resume, s.downstream_pause, `${l}: every pause was resumed`);
      }
    } finally {
      c.close();
      await consumer.close();
    }
  });
});
