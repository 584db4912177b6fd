/**
 * Replays every Thrift capture: each C->S read goes to a server codec and each S->C read to
 * a client codec, in capture order (one line = one TCP read, so messages arrive split and
 * pipelined as they did on the wire). Every message is checked against npm thrift's own
 * reader, and the frames must add up to exactly the bytes that were read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageType, ResponseStatus, type Message } from '../../codecs/api/index.js';
import { ThriftMessage } from '../../codecs/thrift/message.js';
import {
  clientCodec,
  decodeChunks,
  loadCapture,
  npmReadFrame,
  serverCodec,
  thriftCaptureFiles,
} from './thrift-fixtures.js';

type Transport = 'framed' | 'unframed' | 'header';

/** The transport on the wire in each capture, per direction (from captures/README.md). */
function expectedTransport(file: string, dir: 'c2s' | 's2c'): Transport {
  if (file.startsWith('cap.buffered.')) return 'unframed';
  if (file.startsWith('cap.framed.header.')) return file.includes('.py-to-') ? 'header' : 'framed';
  if (file.startsWith('cap.framed.')) return 'framed';
  if (file === 'hcap.node-to-cpp.buffered-compact.hex') return 'unframed';
  if (file === 'hcap.node-to-cpp.framed-binary.hex') return 'framed';
  // The C++ THeader server answers a plain framed request in THeader format.
  if (file === 'hcap.node-framed-to-cpp.hex') return dir === 'c2s' ? 'framed' : 'header';
  return 'header';
}

const TYPE_OF: Record<number, MessageType> = {
  1: MessageType.Request,
  2: MessageType.Response,
  3: MessageType.Error,
  4: MessageType.Oneway,
};

const METHODS = new Set(['echo', 'add', 'getPair', 'fire', 'fail']);

function checkAgainstNpm(file: string, msg: Message, transport: Transport): void {
  const { begin } = npmReadFrame(msg.frame, transport);
  assert.equal(msg.operationName, begin.fname, `${file}: name`);
  assert.equal(msg.metadata.get('method'), begin.fname, `${file}: method metadata`);
  assert.equal(msg.type, TYPE_OF[begin.mtype], `${file}: type of ${begin.fname}`);
  assert.equal(msg.requestId, begin.rseqid >>> 0, `${file}: seqid of ${begin.fname}`);
  assert.ok(METHODS.has(begin.fname), `${file}: unexpected method ${begin.fname}`);
  if (begin.fname === 'fire') assert.equal(msg.type, MessageType.Oneway);
  assert.equal(msg.status, msg.type === MessageType.Error ? ResponseStatus.Error : ResponseStatus.Ok);
}

for (const file of thriftCaptureFiles()) {
  describe(`capture ${file}`, () => {
    for (const [conn, { c2s, s2c }] of loadCapture(file)) {
      it(`connection #${conn}: requests and replies decode`, () => {
        const requests = decodeChunks(serverCodec(), c2s);
        const replies = decodeChunks(clientCodec(), s2c);
        assert.ok(requests.length > 0, 'the capture holds requests');
        assert.deepEqual(Buffer.concat(requests.map((m) => m.frame)), Buffer.concat(c2s), 'request frames = input');
        assert.deepEqual(Buffer.concat(replies.map((m) => m.frame)), Buffer.concat(s2c), 'reply frames = input');

        const calls: Array<[string, number]> = [];
        for (const [msgs, dir] of [
          [requests, 'c2s'],
          [replies, 's2c'],
        ] as const) {
          const transport = expectedTransport(file, dir);
          for (const m of msgs) {
            assert.ok(m instanceof ThriftMessage);
            assert.equal(m.upstreamKey.split('/')[0], transport, `${file}: transport`);
            if (m.type === MessageType.Heartbeat) {
              // The C++ THeader peers flush frames without payload.
              assert.equal(transport, 'header');
              assert.equal(m.frame.length, 18);
              continue;
            }
            checkAgainstNpm(file, m, transport);
          }
        }
        for (const m of requests) {
          if (m.type === MessageType.Request) calls.push([m.operationName, Number(m.requestId)]);
          else assert.ok(m.type === MessageType.Oneway || m.type === MessageType.Heartbeat, 'only calls go C->S');
        }
        const answered = replies
          .filter((m) => m.type !== MessageType.Heartbeat)
          .map((m): [string, number] => [m.operationName, Number(m.requestId)]);
        for (const m of replies) assert.notEqual(m.type, MessageType.Request);
        // Servers answer in order; a capture may stop before the last replies.
        assert.deepEqual(answered, calls.slice(0, answered.length), 'replies match calls');
        if (file !== 'cap.framed.header.py-to-node.hex') assert.equal(answered.length, calls.length);
      });
    }
  });
}
