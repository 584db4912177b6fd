/**
 * Id rewrite and restore, the way the proxy multiplexes: a request's id is rewritten by the
 * upstream (client) half and must decode as the new id; a response's id is put back by the
 * downstream (server) half. Rewriting back to the original id must give the original bytes.
 */
import { MessageType } from '../../api/index.js';
import type { CodecBase, RequestId } from '../../api/index.js';
import type { Sample } from '../samples.js';
import { ConformanceFailure, decodeOne, encodedBytes, expectBytes, expectId } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

function rewrite(decoder: () => CodecBase, rewriter: CodecBase, sample: Sample, ids: readonly RequestId[]): number {
  let done = 0;
  for (const id of ids) {
    const msg = decodeOne(decoder(), sample);
    if (msg.type === MessageType.Heartbeat) return 0; // answered on the spot, never re-id'ed
    const original = msg.requestId;
    const what = `${sample.label}: setRequestId(${id})`;
    try {
      rewriter.setRequestId(msg, id);
    } catch (err) {
      throw new ConformanceFailure(`${what} threw: ${(err as Error).message} (the proxy assigns ids from 1 to 2^31 - 1; list only ids the protocol can carry in samples.requestIds)`);
    }
    expectId(msg.requestId, id, `${what}: message.requestId`);
    const rewritten = Buffer.from(encodedBytes(rewriter.encode(msg, null), what));
    const again = decodeOne(decoder(), { label: `${what}, decoded again`, bytes: rewritten });
    expectId(again.requestId, id, `${what}, decoded again`);
    if (again.type !== msg.type) throw new ConformanceFailure(`${what}, decoded again: type ${MessageType[again.type]}, was ${MessageType[msg.type]}`);
    rewriter.setRequestId(msg, original);
    expectId(msg.requestId, original, `${sample.label}: restoring id ${String(original)}`);
    expectBytes(rewriter.encode(msg, null), sample.bytes, `${sample.label}: rewritten to ${id} and back to ${String(original)}`);
    done++;
  }
  return done;
}

export const requestIdCheck: ConformanceCheck = {
  name: 'id rewrite and restore: new ids decode back, the original id gives the original bytes',
  applies: () => true,
  run(s: KitSubject): string {
    const ids = s.samples.requestIds;
    let n = 0;
    // Requests: decoded downstream, re-id'ed by the upstream half.
    for (const r of s.samples.requests) n += rewrite(() => s.server(), s.client(), r, ids);
    // Responses: decoded upstream, given the client's id back by the downstream half.
    for (const r of s.samples.responses) n += rewrite(() => s.client(), s.server(), r, ids);
    return `${n} rewrite(s) over ${ids.length} id(s), largest ${String(ids.reduce((a, b) => (BigInt(a) > BigInt(b) ? a : b)))}`;
  },
};
