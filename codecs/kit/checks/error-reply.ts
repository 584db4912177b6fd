/**
 * Error replies: for every error type, the reply the server half builds for a request is
 * decoded by the codec's own client half as one failed response carrying the request's id,
 * so a client library raises it at once instead of timing out.
 */
import { ErrorType, MessageType, ResponseStatus } from '../../api/index.js';
import { ConformanceFailure, decodeOne, expectId } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

/** Every ErrorType value (the numeric members of the enum). */
export const ERROR_TYPES: readonly ErrorType[] = Object.values(ErrorType).filter((v): v is ErrorType => typeof v === 'number');

export const errorReplyCheck: ConformanceCheck = {
  name: 'error reply: every error type decodes, by the client half, as a failed response with the request id',
  applies: () => true,
  run(s: KitSubject): string {
    let n = 0;
    for (const sample of s.samples.requests) {
      const server = s.server();
      const request = decodeOne(server, sample);
      if (request.type !== MessageType.Request) continue;
      for (const type of ERROR_TYPES) {
        const what = `${sample.label}: errorReply(${ErrorType[type]})`;
        let reply: Buffer;
        try {
          reply = server.errorReply(request, type, `conformance kit: ${ErrorType[type]}`);
        } catch (err) {
          throw new ConformanceFailure(`${what} threw: ${(err as Error).message}`);
        }
        if (!(reply instanceof Uint8Array) || reply.length === 0) throw new ConformanceFailure(`${what}: expected a non-empty Buffer`);
        const msg = decodeOne(s.client(), { label: what, bytes: Buffer.from(reply) });
        if (msg.type !== MessageType.Response && msg.type !== MessageType.Error) {
          throw new ConformanceFailure(`${what}: the client half decoded it as ${MessageType[msg.type]}, expected Response or Error`);
        }
        if (msg.type === MessageType.Response && msg.status !== ResponseStatus.Error) {
          throw new ConformanceFailure(`${what}: the client half decoded a Response with status Ok; an error reply must read as a failure`);
        }
        expectId(msg.requestId, request.requestId, what);
        n++;
      }
    }
    if (n === 0) throw new ConformanceFailure('no two-way request among the samples: give at least one request that expects a response');
    return `${n} error reply(ies) over ${ERROR_TYPES.length} error type(s)`;
  },
};
