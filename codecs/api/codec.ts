import type { CodecError, ErrorType } from './errors.js';
import type { FrameReader } from './frame-reader.js';
import type { Message, Mutation, RequestId } from './message.js';

/** The version of this SPI. A codec package declares the one it was written for. */
export const CODEC_API_VERSION = 1;

/**
 * What `decode` returns: a complete message, `undefined` when more bytes are needed (the
 * codec keeps its partial state), or a CodecError for bytes that cannot be this protocol.
 */
export type DecodeResult = Message | undefined | CodecError;

/** Settings every codec receives; codec-specific settings come in `options`. */
export interface CodecContext {
  /** Frames larger than this are a decode error. */
  maxFrameSize: number;
  /** The codec's own configuration (`codec.config` from the proxy config), if any. */
  options: Readonly<Record<string, unknown>>;
  /**
   * Metadata keys that routes, filters and logs of this listener read. A codec may skip
   * a deep parse when none of the keys that need it is wanted.
   */
  wantedKeys: ReadonlySet<string>;
}

/** Shared by both halves: frame-level edits that do not depend on the direction. */
export interface CodecBase {
  /** Decodes the next frame from `reader`, consuming exactly its bytes when complete. */
  decode(reader: FrameReader): DecodeResult;
  /**
   * Rewrites the request id of `message` (its `frame` is patched in place, or replaced
   * when the id's encoded length changes) and updates `message.requestId`.
   */
  setRequestId(message: Message, id: RequestId): void;
  /**
   * The bytes to send for `message`, with `mutation` applied to its header. Returns
   * `message.frame` itself when there is nothing to change, and a CodecError (never a throw)
   * when the mutated message cannot be encoded (e.g. a header over the protocol's size
   * limit): the proxy then answers that call with an error reply.
   */
  encode(message: Message, mutation: Mutation | null): Buffer | CodecError;
  /**
   * True when request ids are varints (protobuf): the proxy then gives each request an
   * upstream id of the same encoded length as the client's, so `setRequestId` can patch the
   * frame in place both ways instead of rebuilding it.
   */
  readonly varintRequestIds?: boolean;
}

/** Downstream half: decodes requests, builds replies the proxy sends on its own. */
export interface ServerCodec extends CodecBase {
  /** The protocol's error reply to `request`, one the client raises at once. */
  errorReply(request: Message, error: ErrorType, text: string): Buffer;
  /** The reply to a heartbeat request, or null when the protocol has none. */
  heartbeatReply(request: Message): Buffer | null;
  /**
   * Optional: a frame telling the client that this connection is going away, so that it
   * sends its next requests elsewhere (Dubbo: the READONLY event a provider sends at
   * shutdown). The proxy sends it when it drains the connection, keeps answering for a
   * grace period, then closes once idle. Absent or null: the protocol has no such frame,
   * and a draining connection stops reading at once and closes once idle.
   */
  drainFrame?(): Buffer | null;
}

/** Upstream half: decodes responses (and upstream events). */
export interface ClientCodec extends CodecBase {
  /** A heartbeat request to keep an idle upstream connection open, or null. */
  heartbeatRequest?(id: RequestId): Buffer | null;
  /**
   * The answer to a heartbeat the upstream sent (Java Dubbo providers ping consumers), or
   * null for a heartbeat that needs none (a heartbeat response).
   */
  heartbeatReply?(message: Message): Buffer | null;
}

export interface CodecFactory {
  /** Registry name, e.g. `aeraki.meta_protocol.codec.dubbo`. */
  readonly name: string;
  /** The application protocol name used in stats (`dubbo`, `thrift`, ...). */
  readonly protocol: string;
  /** The CODEC_API_VERSION the codec was written for. */
  readonly apiVersion: number;
  createServerCodec(ctx: CodecContext): ServerCodec;
  createClientCodec(ctx: CodecContext): ClientCodec;
}
