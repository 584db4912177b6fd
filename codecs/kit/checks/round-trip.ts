/**
 * Round trip: each sample decodes to exactly one message of a type that side may receive,
 * whose frame is the sample, and encoding it with no mutation gives the same bytes back
 * (the proxy forwards frames untouched).
 */
import { MessageType } from '../../api/index.js';
import type { CodecBase } from '../../api/index.js';
import type { Sample } from '../samples.js';
import { ConformanceFailure, REQUEST_SIDE_TYPES, RESPONSE_SIDE_TYPES, decodeOne, expectBytes, touchMetadata } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

function roundTrip(codec: CodecBase, sample: Sample, allowed: ReadonlySet<MessageType>, side: string): void {
  const msg = decodeOne(codec, sample);
  if (!allowed.has(msg.type)) throw new ConformanceFailure(`${sample.label}: the ${side} half decoded it as ${MessageType[msg.type] ?? msg.type}, which that side never receives`);
  expectBytes(msg.frame, sample.bytes, `${sample.label}: message.frame`);
  expectBytes(codec.encode(msg, null), sample.bytes, `${sample.label}: encode(message, null)`);
  try {
    touchMetadata(msg);
  } catch (err) {
    throw new ConformanceFailure(`${sample.label}: reading metadata or operationName threw: ${(err as Error).message}`);
  }
  for (const [key] of msg.metadata.entries()) {
    if (key !== key.toLowerCase()) throw new ConformanceFailure(`${sample.label}: metadata key '${key}' is not lower-case (routes match lower-cased keys)`);
  }
}

export const roundTripCheck: ConformanceCheck = {
  name: 'round trip: decode, then encode without mutation, gives the same bytes',
  applies: () => true,
  run(s: KitSubject): string {
    for (const r of s.samples.requests) roundTrip(s.server(), r, REQUEST_SIDE_TYPES, 'server');
    for (const r of s.samples.responses) roundTrip(s.client(), r, RESPONSE_SIDE_TYPES, 'client');
    return `${s.samples.requests.length} request(s), ${s.samples.responses.length} response(s)`;
  },
};
