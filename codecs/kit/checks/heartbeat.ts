/**
 * Heartbeats, for codecs that declare one: the server half decodes the sample as a
 * Heartbeat and answers it (with the expected bytes when given); the client half reads the
 * answer as a heartbeat with the same id. A client half that makes its own heartbeat
 * requests must make ones the server half recognises.
 */
import { MessageType } from '../../api/index.js';
import { ConformanceFailure, decodeOne, expectBytes, expectId } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

export const heartbeatCheck: ConformanceCheck = {
  name: 'heartbeat: decoded as a Heartbeat and answered',
  applies: (s) => s.samples.heartbeat !== undefined,
  run(s: KitSubject): string {
    const hb = s.samples.heartbeat!;
    const server = s.server();
    const msg = decodeOne(server, hb.request);
    if (msg.type !== MessageType.Heartbeat) throw new ConformanceFailure(`${hb.request.label}: decoded as ${MessageType[msg.type]}, expected Heartbeat`);
    const reply = server.heartbeatReply(msg);
    if (reply === null || reply.length === 0) throw new ConformanceFailure(`${hb.request.label}: heartbeatReply returned ${reply === null ? 'null' : 'no bytes'}`);
    if (hb.reply !== undefined) expectBytes(reply, hb.reply.bytes, 'heartbeatReply');
    const answer = decodeOne(s.client(), { label: 'heartbeat reply', bytes: Buffer.from(reply) });
    if (answer.type !== MessageType.Heartbeat) throw new ConformanceFailure(`heartbeat reply: the client half decoded it as ${MessageType[answer.type]}, expected Heartbeat`);
    expectId(answer.requestId, msg.requestId, 'heartbeat reply');
    const client = s.client();
    const own = client.heartbeatRequest?.(9) ?? null;
    if (own === null) return 'answered';
    const ping = decodeOne(s.server(), { label: 'client heartbeatRequest(9)', bytes: Buffer.from(own) });
    if (ping.type !== MessageType.Heartbeat) throw new ConformanceFailure(`client heartbeatRequest(9): the server half decoded it as ${MessageType[ping.type]}`);
    expectId(ping.requestId, 9, 'client heartbeatRequest(9)');
    return 'answered; the client half pings too';
  },
};
