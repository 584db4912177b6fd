import type { ThriftMessageType } from './constants.js';

/** The two wire protocols this codec carries. JSON is not carried (no mesh peer uses it). */
export type ThriftProtocol = 'binary' | 'compact';

/** What a message header says, and where its sequence id sits (to rewrite it). */
export interface MessageHeader {
  /** The full name, `Service:method` when the client multiplexes. */
  name: string;
  type: ThriftMessageType;
  /** The sequence id read as an unsigned 32-bit number. */
  seqid: number;
  /** Offset of the seqid in the buffer that was read. */
  seqidOffset: number;
  /** Encoded length of the seqid: 4 in binary, 1..5 (varint) in compact. */
  seqidLength: number;
  /** Binary only: false for the old non-strict header (no version word). */
  strict: boolean;
}

/** A blank header for readers to fill. */
export function newMessageHeader(): MessageHeader {
  return { name: '', type: 1, seqid: 0, seqidOffset: 0, seqidLength: 0, strict: true };
}

/**
 * Splits a TMultiplexedProtocol name on its first ':'; plain names have no service. The
 * service prefix is what TMultiplexedProcessor dispatches on, the rest is the method.
 */
export function splitName(name: string): { service: string | undefined; method: string } {
  const colon = name.indexOf(':');
  if (colon < 0) return { service: undefined, method: name };
  return { service: name.slice(0, colon), method: name.slice(colon + 1) };
}

/** True for the four message types of thrift-rpc.md. */
export function isMessageType(t: number): t is ThriftMessageType {
  return t >= 1 && t <= 4;
}
