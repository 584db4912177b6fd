/**
 * The Tern codec passes Meltemi's codec conformance kit: round trip, every split point,
 * pipelining, id rewrite and restore, error replies, heartbeat, fuzzing, and a benchmark.
 */
import { runCodecConformance } from 'meltemi/codec-kit';
import ternCodecFactory, { Flag, encodeFrame } from '../src/index.js';

const request = (requestId: number, method: string, body: string, headers: Record<string, string> = {}): Buffer =>
  encodeFrame({ flags: 0, requestId, service: 'demo.Greeter', method, headers, body: Buffer.from(body) });

runCodecConformance(ternCodecFactory, {
  requests: [
    { name: 'greet', bytes: request(1, 'greet', 'world') },
    { name: 'with headers', bytes: request(2, 'echo', 'x'.repeat(300), { version: 'v2', 'x-trace': 'abc' }) },
    { name: 'one-way', bytes: encodeFrame({ flags: Flag.Oneway, requestId: 3, service: 'demo.Greeter', method: 'log', headers: {}, body: Buffer.from('fire') }) },
    { name: 'empty body, unicode method', bytes: request(0xffff_fffe, 'grüßen', '') },
  ],
  responses: [
    { name: 'ok', bytes: encodeFrame({ flags: Flag.Response, requestId: 1, service: 'demo.Greeter', method: 'greet', headers: { 'served-by': 'v1' }, body: Buffer.from('hello world') }) },
    { name: 'error', bytes: encodeFrame({ flags: Flag.Response | Flag.Error, requestId: 2, service: '', method: '', headers: {}, body: Buffer.from('no method') }) },
  ],
  heartbeat: {
    request: encodeFrame({ flags: Flag.Heartbeat, requestId: 7, service: '', method: '', headers: {}, body: Buffer.alloc(0) }),
    reply: encodeFrame({ flags: Flag.Response | Flag.Heartbeat, requestId: 7, service: '', method: '', headers: {}, body: Buffer.alloc(0) }),
  },
  // Tern ids are uint32: the largest one is worth a try.
  requestIds: [0xffff_ffff],
});
