/**
 * The built-in codecs pass the same conformance kit a codec package runs, with frames from
 * test/fixtures/spec/test-vectors.md (captured between real implementations) and captures/.
 */
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import { runCodecConformance } from '../../codecs/kit/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { readTaggedHex, readTestVectors } from '../helpers/spec-files.js';

/** Frames of a `<TAG> <hex>` capture file, by tag. */
function taggedHex(name: string): Map<string, string> {
  return new Map(readTaggedHex(name).map((l) => [l.tag, l.bytes.toString('hex')]));
}

/** The hex blocks of a `### <section>` of test-vectors.md, in order. */
function vectorsOf(section: string): string[] {
  const text = readTestVectors();
  const start = text.indexOf(`### ${section}`);
  if (start < 0) throw new Error(`test-vectors.md has no section ${section}`);
  const end = text.indexOf('\n### ', start + 4);
  const body = text.slice(start, end < 0 ? undefined : end);
  // A frame is a hex run of 12+ bytes standing alone on its line or after a label.
  return [...body.matchAll(/(?:^|\s)([0-9a-f]{24,})(?=\s|$)/gm)].map((m) => m[1]!);
}

const BENCH = { benchMs: 20 };

// §1.1-1.7: apache-dubbo-js and sofa-rpc-node frames; 64-bit ids as Dubbo carries them.
const dubbo11 = vectorsOf('1.1 ');
const dubbo12 = vectorsOf('1.2 ');
const dubbo14 = vectorsOf('1.4 ');
const dubbo15 = vectorsOf('1.5 ');
const dubbo17 = vectorsOf('1.7 ');
runCodecConformance(
  dubboCodecFactory,
  {
    requests: [
      { name: '1.1 sayHello', bytes: dubbo11[0]! },
      { name: '1.2 plus', bytes: dubbo12[0]! },
      { name: '1.3 sofa client', bytes: vectorsOf('1.3 ')[0]! },
      { name: '1.7 group/timeout', bytes: dubbo17[0]! },
    ],
    responses: [
      { name: '1.1 reply', bytes: dubbo11[1]! },
      { name: '1.2 reply', bytes: dubbo12[1]! },
      { name: '1.4 server error', bytes: dubbo14[0]! },
      { name: '1.7 with attachments', bytes: dubbo17[1]! },
    ],
    heartbeat: { request: dubbo15[0]!, reply: dubbo15[1]! },
    requestIds: ['4294967296', '9007199254740993', '18446744073709551615'],
  },
  BENCH,
);

// §2.1 and §2.2: npm thrift ↔ python3-thrift, binary protocol, framed then unframed.
const framed = vectorsOf('2.1 ');
runCodecConformance(
  thriftCodecFactory,
  {
    requests: [
      { name: '2.1 echo', bytes: framed[0]! },
      { name: '2.1 getPair', bytes: framed[2]! },
      { name: '2.1 oneway fire', bytes: framed[4]! },
    ],
    responses: [
      { name: '2.1 echo reply', bytes: framed[1]! },
      { name: '2.1 declared exception', bytes: framed[3]! },
      { name: '2.1 TApplicationException', bytes: framed[6]! },
    ],
    options: { transport: 'framed' },
  },
  BENCH,
);
const unframed = vectorsOf('2.2 ');
runCodecConformance(
  thriftCodecFactory,
  { requests: [{ name: '2.2 echo', bytes: unframed[0]! }], responses: [{ name: '2.2 reply', bytes: unframed[1]! }], options: { transport: 'unframed' } },
  BENCH,
);
// §2.3: compact protocol, unframed (python uses seqid 0).
const compact = vectorsOf('2.3 ');
runCodecConformance(
  thriftCodecFactory,
  { requests: [{ name: '2.3 echo', bytes: compact[0]! }, { name: '2.3 fail', bytes: compact[3]! }], responses: [{ name: '2.3 reply', bytes: compact[1]! }] },
  BENCH,
);
// §2.5: THeader, binary sub-protocol with an info header.
const theader = vectorsOf('2.5 ');
runCodecConformance(
  thriftCodecFactory,
  { requests: [{ name: '2.5 echo with x-trace', bytes: theader[0]! }], responses: [{ name: '2.5 reply', bytes: theader[1]! }], options: { transport: 'header' } },
  BENCH,
);

// §3.1-3.3: real brpc client/server frames; correlation ids are 64-bit.
const brpc31 = vectorsOf('3.1 ');
const brpc32 = vectorsOf('3.2 ');
runCodecConformance(
  brpcCodecFactory,
  {
    requests: [
      { name: '3.1 Echo with attachment', bytes: brpc31[0]! },
      { name: '3.2 log_id', bytes: brpc32[0]! },
      { name: '3.2 user_fields', bytes: brpc32[1]! },
      { name: '3.2 id 2^60+1', bytes: brpc32[4]! },
    ],
    responses: [
      { name: '3.1 reply', bytes: brpc31[1]! },
      { name: '3.2 error 1003', bytes: brpc32[5]! },
      { name: '3.2 attachment reply', bytes: brpc32[8]! },
    ],
    requestIds: ['4294967298', '1152921504606846977', '18446744073709551615'],
  },
  BENCH,
);

// §4.1-4.3: trpc-go stream vectors and protobufjs unary frames (captures/trpc-vectors.txt).
const trpc = taggedHex('trpc-vectors.txt');
const trpc41 = vectorsOf('4.1 ');
runCodecConformance(
  trpcCodecFactory,
  {
    requests: [
      { name: 'UNARY_REQUEST', bytes: trpc.get('UNARY_REQUEST')! },
      { name: 'ONEWAY_REQUEST', bytes: trpc.get('ONEWAY_REQUEST')! },
      { name: 'REQUEST_WITH_ATTACHMENT', bytes: trpc.get('REQUEST_WITH_ATTACHMENT')! },
      { name: '4.1 stream INIT', bytes: trpc41[0]! },
    ],
    responses: [
      { name: 'UNARY_RESPONSE', bytes: trpc.get('UNARY_RESPONSE')! },
      { name: 'UNARY_ERROR_RET12', bytes: trpc.get('UNARY_ERROR_RET12')! },
      { name: '4.3 trpc-cpp reply', bytes: vectorsOf('4.3 ')[0]! },
    ],
    // tRPC ids are uint32.
    requestIds: [0xffff_ffff],
  },
  BENCH,
);
