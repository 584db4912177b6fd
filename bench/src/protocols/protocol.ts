// What the bench needs from a protocol: request frames for the load generator, a parser for the
// responses, an echo server's answer rules, and how Meltemi routes it. Each protocol (Dubbo,
// Thrift, bRPC, tRPC, or a custom codec package) implements this once; the generators, echo
// server, targets and reports stay protocol-neutral.

/** What became of one response frame, as far as the load generator can tell. */
export const Outcome = {
  /** OK status and the expected size. */
  Ok: 0,
  /** An error status (the proxy's or the server's error reply). */
  Status: 1,
  /** OK but not the size the echo of this request has. */
  Mismatch: 2,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Receives one response: the sequence number the request was sent with (-1: not ours) and what it says. */
export type ResponseHandler = (seq: number, outcome: Outcome) => void;

/** One connection's request writer and response parser. */
export interface ClientFramer {
  /** Size of every request frame, bytes; fixed so a batch is one buffer of known size. */
  readonly requestSize: number;
  /**
   * Writes one request at `buf[off .. off + requestSize)` carrying sequence number `seq`
   * (0 .. 2^27 - 1, unique among this connection's outstanding requests).
   */
  writeRequest(buf: Buffer, off: number, seq: number): void;
  /**
   * Feeds received bytes; calls `onResponse` for each complete response frame (frames that are
   * not responses, such as heartbeats, are skipped). Returns an error message when the stream
   * is not this protocol, else null.
   */
  push(chunk: Buffer, onResponse: ResponseHandler): string | null;
}

/** One echo-server connection: answers each request with a same-size OK response. */
export interface EchoFramer {
  /** Feeds received bytes; `reply` is called with each response due. Error message or null. */
  push(chunk: Buffer, reply: (frame: Buffer) => void): string | null;
}

/** One metadata match of the generated Meltemi route (Aeraki MetaRoute `metadata` matcher). */
export interface RouteMatch {
  readonly name: string;
  readonly exact_match: string;
}

export interface BenchProtocol {
  /** Bench name, e.g. `dubbo`, `thrift-compact`. */
  readonly name: string;
  /** Meltemi codec registry name, e.g. `aeraki.meta_protocol.codec.thrift`. */
  readonly codecName: string;
  /**
   * A codec package Meltemi must load for this protocol (`--codec <codecName>=<this>`), absolute;
   * undefined for codecs built into Meltemi.
   */
  readonly codecPackage: string | undefined;
  /** `codec.config` of the generated bootstrap, when the codec needs one. */
  readonly codecConfig: Readonly<Record<string, unknown>> | undefined;
  /** Two metadata keys the generated route matches on, so routing work is part of the cost. */
  readonly routeMatch: readonly RouteMatch[];
  /** Smallest request frame the protocol's request shape allows, bytes. */
  readonly minFrameSize: number;
  /** A framer for connection number `connection` (0-based, distinct across generators). */
  createClient(frameSize: number, connection: number): ClientFramer;
  createEcho(): EchoFramer;
}

/**
 * Sequence numbers are mapped into ids that have a fixed encoded size: varint ids in
 * [2^28, 2^28 + 2^27) always take 5 bytes, so a request id can be patched in place and every
 * request of a connection has the same size. Protocols with fixed-width ids use the same range
 * for uniformity.
 */
export const ID_BASE = 2 ** 28;
export const SEQ_LIMIT = 2 ** 27;

export function seqToId(seq: number): number {
  return ID_BASE + (seq % SEQ_LIMIT);
}

/** The sequence number of an id, or -1 when the id is outside the range the bench sends. */
export function idToSeq(id: number): number {
  const seq = id - ID_BASE;
  return seq >= 0 && seq < SEQ_LIMIT ? seq : -1;
}
