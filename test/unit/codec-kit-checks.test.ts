/**
 * The conformance kit catches what it promises to: a correct toy codec passes every check,
 * and each fault planted in it fails the check that is about that fault.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CODEC_API_VERSION, CodecError, EMPTY_METADATA, FixedHeaderFramer, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { ClientCodec, CodecContext, CodecFactory, DecodeResult, FrameReader, Message, RequestId, ServerCodec } from '../../codecs/api/index.js';
import { CONFORMANCE_CHECKS, checkCodecConformance, conformanceSubject, runCheck } from '../../codecs/kit/index.js';
import type { CheckOutcome, CodecSamples } from '../../codecs/kit/index.js';

/** Faults to plant in the toy codec. */
type Fault = 'encode-changes-bytes' | 'early-error' | 'eats-everything' | 'id-not-patched' | 'error-reply-id-0' | 'throws-on-flag-0x80' | 'no-heartbeat-reply' | 'bigint-ids';

// Toy protocol: 'T' 'Y' | flags (0x01 response, 0x02 error, 0x04 heartbeat) | 0 | id u32 | body length u32 | body.
const HEADER = 12;
function frame(flags: number, id: number, body: string): Buffer {
  const b = Buffer.from(body);
  const out = Buffer.alloc(HEADER + b.length);
  out.write('TY', 0, 'latin1');
  out[2] = flags;
  out.writeUInt32BE(id, 4);
  out.writeUInt32BE(b.length, 8);
  b.copy(out, HEADER);
  return out;
}

class ToyCodec implements ServerCodec, ClientCodec {
  readonly #framer: FixedHeaderFramer;
  readonly #faults: ReadonlySet<Fault>;
  constructor(ctx: CodecContext, faults: ReadonlySet<Fault>) {
    this.#framer = new FixedHeaderFramer({ magic: Buffer.from('TY'), headerSize: HEADER, lengthOffset: 8, lengthSize: 4, lengthCounts: 'after-header' }, ctx.maxFrameSize);
    this.#faults = faults;
  }
  decode(reader: FrameReader): DecodeResult {
    if (this.#faults.has('early-error') && reader.length > 0 && reader.length < HEADER) return new CodecError('short');
    if (this.#faults.has('throws-on-flag-0x80') && reader.length > 2 && (reader.byteAt(2) & 0x80) !== 0) throw new Error('boom');
    const f = this.#faults.has('eats-everything') && reader.length >= HEADER ? reader.take(reader.length) : this.#framer.next(reader);
    if (f === undefined || f instanceof CodecError) return f;
    const flags = f[2]!;
    const type = flags & 4 ? MessageType.Heartbeat : flags & 1 ? MessageType.Response : MessageType.Request;
    const id = f.readUInt32BE(4);
    return {
      type,
      requestId: this.#faults.has('bigint-ids') ? BigInt(id) : id,
      streamId: 0,
      frame: f,
      headerSize: HEADER,
      bodySize: f.length - HEADER,
      status: flags & 2 ? ResponseStatus.Error : ResponseStatus.Ok,
      operationName: 'toy',
      metadata: EMPTY_METADATA,
      upstreamKey: '',
    };
  }
  setRequestId(message: Message, id: RequestId): void {
    if (!this.#faults.has('id-not-patched')) message.frame.writeUInt32BE(Number(id), 4);
    message.requestId = id;
  }
  encode(message: Message): Buffer {
    if (!this.#faults.has('encode-changes-bytes')) return message.frame;
    const out = Buffer.from(message.frame);
    out[out.length - 1] = out[out.length - 1]! ^ 1;
    return out;
  }
  errorReply(request: Message, _error: number, text: string): Buffer {
    return frame(3, this.#faults.has('error-reply-id-0') ? 0 : Number(request.requestId), text);
  }
  heartbeatReply(request: Message): Buffer | null {
    return this.#faults.has('no-heartbeat-reply') ? null : frame(5, Number(request.requestId), '');
  }
}

function toyFactory(...faults: Fault[]): CodecFactory {
  const set = new Set(faults);
  return {
    name: 'test.toy',
    protocol: 'toy',
    apiVersion: CODEC_API_VERSION,
    createServerCodec: (ctx) => new ToyCodec(ctx, set),
    createClientCodec: (ctx) => new ToyCodec(ctx, set),
  };
}

const SAMPLES: CodecSamples = {
  requests: [frame(0, 1, 'hello'), { name: 'empty body', bytes: frame(0, 300, '').toString('hex') }],
  responses: [frame(1, 1, 'hi'), frame(3, 2, 'no')],
  heartbeat: { request: frame(4, 7, ''), reply: frame(5, 7, '') },
  requestIds: [0xffff_ffff],
};

function outcome(factory: CodecFactory, checkName: RegExp): CheckOutcome {
  const check = CONFORMANCE_CHECKS.find((c) => checkName.test(c.name));
  assert.ok(check !== undefined, `no check matching ${checkName}`);
  return runCheck(check, conformanceSubject(factory, SAMPLES));
}

describe('the conformance kit', () => {
  test('passes a correct codec on every check', () => {
    process.env['MELTEMI_KIT_FUZZ_RUNS'] = '50';
    const outcomes = checkCodecConformance(toyFactory(), SAMPLES);
    assert.equal(outcomes.length, CONFORMANCE_CHECKS.length);
    for (const o of outcomes) assert.equal(o.status, 'pass', `${o.name}: ${o.detail}`);
  });

  const cases: [Fault, RegExp, RegExp][] = [
    ['encode-changes-bytes', /^round trip/, /encode\(message, null\): bytes differ/],
    ['early-error', /^every split point/, /split at byte 1: decode returned an error: short/],
    ['eats-everything', /^pipelining/, /decoded 1 message\(s\)/],
    ['id-not-patched', /^id rewrite/, /decoded again: request id is number 1, expected number 2/],
    ['error-reply-id-0', /^error reply/, /request id is number 0, expected number 1/],
    ['no-heartbeat-reply', /^heartbeat/, /heartbeatReply returned null/],
    ['throws-on-flag-0x80', /^random and corrupt/, /an exception escaped: Error: boom/],
    ['bigint-ids', /^round trip|^id rewrite/, /must be numbers/],
  ];
  for (const [fault, check, message] of cases) {
    test(`fails a codec with fault ${fault}`, () => {
      process.env['MELTEMI_KIT_FUZZ_RUNS'] = '200';
      const o = outcome(toyFactory(fault), fault === 'bigint-ids' ? /^id rewrite/ : check);
      assert.equal(o.status, 'fail', `${o.name} passed: ${o.detail}`);
      assert.match(o.detail, message);
    });
  }

  test('a factory with an unsupported apiVersion fails the factory check', () => {
    const o = outcome({ ...toyFactory(), apiVersion: CODEC_API_VERSION + 1 }, /^factory/);
    assert.equal(o.status, 'fail');
    assert.match(o.detail, /targets codec API version 2, newer than this Meltemi supports/);
  });

  test('the heartbeat check does not apply when no heartbeat is declared', () => {
    const { heartbeat: _hb, ...noHeartbeat } = SAMPLES;
    const check = CONFORMANCE_CHECKS.find((c) => c.name.startsWith('heartbeat'))!;
    assert.equal(runCheck(check, conformanceSubject(toyFactory(), noHeartbeat)).status, 'not applicable');
  });

  test('malformed samples are refused with the entry named', () => {
    assert.throws(() => conformanceSubject(toyFactory(), { requests: [], responses: [] }), /at least one request/);
    assert.throws(() => conformanceSubject(toyFactory(), { requests: ['zz'], responses: [] }), /request #0: not hex/);
  });
});
