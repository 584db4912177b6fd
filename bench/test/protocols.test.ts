// Each bench protocol's request, echo and response parsing fit together: what the generator
// sends, the echo server answers, and the generator reads back as an OK answer to that request.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Outcome, type BenchProtocol } from '../src/protocols/protocol.ts';
import { loadProtocol, PROTOCOL_NAMES, type ProtocolName } from '../src/protocols/registry.ts';

const EXAMPLE_MODULE = fileURLToPath(new URL('../examples/brpc-codec-module.mjs', import.meta.url));

async function protocol(name: ProtocolName): Promise<BenchProtocol> {
  return loadProtocol(name, name === 'custom' ? EXAMPLE_MODULE : undefined);
}

/** Sends `n` requests through the echo framer and returns what the client made of the answers. */
function roundTrip(p: BenchProtocol, frameSize: number, n: number, chunkSize: number): { seq: number; outcome: Outcome }[] {
  const client = p.createClient(frameSize, 3);
  const echo = p.createEcho();
  const batch = Buffer.alloc(client.requestSize * n);
  for (let i = 0; i < n; i++) client.writeRequest(batch, i * client.requestSize, 1000 + i);
  const replies: Buffer[] = [];
  for (let off = 0; off < batch.length; off += chunkSize) {
    assert.equal(echo.push(batch.subarray(off, off + chunkSize), (r) => replies.push(Buffer.from(r))), null);
  }
  const wire = Buffer.concat(replies);
  const seen: { seq: number; outcome: Outcome }[] = [];
  for (let off = 0; off < wire.length; off += chunkSize) {
    assert.equal(client.push(wire.subarray(off, off + chunkSize), (seq, outcome) => seen.push({ seq, outcome })), null);
  }
  return seen;
}

describe('bench protocols', () => {
  for (const name of PROTOCOL_NAMES) {
    it(`${name}: requests have the asked size and come back as OK answers with their own sequence numbers`, async () => {
      const p = await protocol(name);
      for (const size of [p.minFrameSize, 128, 129, 130, 131, 4096]) {
        if (size < p.minFrameSize) continue;
        assert.equal(p.createClient(size, 0).requestSize, size, `${name} request size at ${size}`);
        for (const chunk of [1, 7, 1 << 20]) {
          const seen = roundTrip(p, size, 5, chunk);
          assert.deepEqual(
            seen,
            [1000, 1001, 1002, 1003, 1004].map((seq) => ({ seq, outcome: Outcome.Ok })),
            `${name} at ${size} B in ${chunk} B chunks`,
          );
        }
      }
    });

    it(`${name}: a frame size below the minimum is refused`, async () => {
      const p = await protocol(name);
      assert.throws(() => p.createClient(p.minFrameSize - 1, 0));
    });

    it(`${name}: routes on two metadata keys`, async () => {
      const p = await protocol(name);
      assert.equal(p.routeMatch.length, 2);
      assert.match(p.codecName, /^aeraki\.meta_protocol\.codec\./);
    });
  }

  it('dubbo: an answer for another connection (id high half) is not taken as ours', async () => {
    const p = await protocol('dubbo');
    const mine = p.createClient(128, 0);
    const other = p.createClient(128, 1);
    const req = Buffer.alloc(other.requestSize);
    other.writeRequest(req, 0, 7);
    const replies: Buffer[] = [];
    p.createEcho().push(req, (r) => replies.push(Buffer.from(r)));
    const seen: number[] = [];
    mine.push(replies[0]!, (seq) => seen.push(seq));
    assert.deepEqual(seen, [-1]);
  });

  it('thrift: an EXCEPTION reply counts as an error status', async () => {
    const p = await protocol('thrift-binary');
    const client = p.createClient(128, 0);
    const req = Buffer.alloc(client.requestSize);
    client.writeRequest(req, 0, 9);
    const replies: Buffer[] = [];
    p.createEcho().push(req, (r) => replies.push(Buffer.from(r)));
    const reply = replies[0]!;
    reply[4 + 3] = 3; // message type EXCEPTION in the strict binary version word
    const seen: { seq: number; outcome: Outcome }[] = [];
    client.push(reply, (seq, outcome) => seen.push({ seq, outcome }));
    assert.deepEqual(seen, [{ seq: 9, outcome: Outcome.Status }]);
  });

  it('a stream that is not the protocol is reported, not parsed', async () => {
    for (const name of ['dubbo', 'thrift-compact', 'brpc', 'trpc'] as const) {
      const p = await protocol(name);
      const err = p.createClient(128, 0).push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), () => assert.fail('no response expected'));
      assert.notEqual(err, null, name);
    }
  });

  it('custom: a module without a bench adapter is refused with what is missing', async () => {
    const bad = fileURLToPath(new URL('./fixtures/not-an-adapter.mjs', import.meta.url));
    await assert.rejects(loadProtocol('custom', bad), /exports no CodecBenchAdapter .*missing/);
    await assert.rejects(loadProtocol('custom', undefined), /needs --codec-module/);
  });
});
