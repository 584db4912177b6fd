/**
 * The bRPC baidu_std codec (spec/wire-formats.md §3). One class serves both halves: in
 * baidu_std the RpcMeta itself says whether a frame is a request or a response, and the
 * edits (correlation id, user_fields) are the same in both directions.
 */
import {
  CodecError,
  MessageType,
  ProtobufWireError,
  ResponseStatus,
  patchVarintField,
  setVarintField,
  overwriteVarint,
  upsertMapEntries,
} from '../api/index.js';
import type {
  ClientCodec,
  CodecContext,
  DecodeResult,
  ErrorType,
  FrameReader,
  Message,
  Mutation,
  RequestId,
  ServerCodec,
} from '../api/index.js';
import { HEADER_SIZE, MAGIC_RPC, MAGIC_STREAM, RpcMetaField, StreamFrameMetaField, StreamFrameType } from './constants.js';
import { brpcErrorCode, buildErrorResponse, buildStreamReset } from './error-reply.js';
import { metaSizeOf, reframe } from './frame.js';
import { BrpcMessage, BrpcMetadata } from './message.js';
import { newRpcMetaScan, readResponseMeta, readStreamFrameMeta, scanRpcMeta } from './rpc-meta.js';
import type { RpcMetaScan } from './rpc-meta.js';

/** The message of the CodecError returned for streaming RPC when streams are not pinned. */
export const STREAM_UNSUPPORTED =
  'bRPC streaming (STRM) is not supported on a multiplexed connection; set codec option pinStreams to carry it on a dedicated upstream connection';

/** Which half of a connection the codec decodes for. */
export type BrpcSide = 'server' | 'client';

/** Ids are numbers when safe and bigints otherwise, so equal ids are equal Map keys. */
function normalizeId(id: RequestId): RequestId {
  if (typeof id === 'bigint') {
    const u = BigInt.asUintN(64, id);
    return u <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(u) : u;
  }
  return id >= 0 ? id : BigInt.asUintN(64, BigInt(id));
}

/** Stream ids are 64-bit in bRPC; Message.streamId is a number (exact below 2^53). */
function streamIdNumber(id: RequestId): number {
  return typeof id === 'number' ? id : Number(id);
}

/** Records where the scan found correlation_id, for setRequestId. */
function withIdRange(msg: BrpcMessage, scan: RpcMetaScan): BrpcMessage {
  if (scan.correlationIdStart >= 0) {
    msg.idFrame = msg.frame;
    msg.idStart = scan.correlationIdStart;
    msg.idEnd = scan.correlationIdEnd;
  }
  return msg;
}

function isStreamFrame(frame: Buffer): boolean {
  return frame[0] === MAGIC_STREAM[0];
}

/**
 * bRPC codec. Options (`ctx.options`): `pinStreams` (boolean, default false). Without it a
 * STRM frame, or a request that opens a stream (RpcMeta.stream_settings), is a decode error
 * ({@link STREAM_UNSUPPORTED}): stream frames carry no correlation id and cannot share an
 * upstream connection. With it, STRM frames decode as StreamData (DATA, FEEDBACK) or
 * StreamCloseTwoWay (CLOSE, RST: a bRPC stream closes as a whole), with `streamId` and
 * `requestId` set from StreamFrameMeta.stream_id; the proxy must then give the stream a
 * dedicated upstream connection.
 */
export class BrpcCodec implements ServerCodec, ClientCodec {
  /** Ids are protobuf varints: the proxy keeps their encoded length (see CodecBase). */
  readonly varintRequestIds = true;
  readonly #side: BrpcSide;
  readonly #maxFrameSize: number;
  readonly #pinStreams: boolean;
  /** Filled by each decode and read before it returns: no scan object per frame. */
  readonly #scan = newRpcMetaScan();

  constructor(ctx: CodecContext, side: BrpcSide) {
    this.#side = side;
    this.#maxFrameSize = ctx.maxFrameSize;
    this.#pinStreams = ctx.options['pinStreams'] === true;
  }

  decode(reader: FrameReader): DecodeResult {
    const available = reader.length;
    if (available === 0) return undefined;
    // Check the magic on whatever prefix has arrived, so garbage is refused at once.
    let rpc = true;
    let stream = true;
    const magicBytes = Math.min(4, available);
    for (let i = 0; i < magicBytes; i++) {
      const b = reader.byteAt(i);
      rpc &&= b === MAGIC_RPC[i];
      stream &&= b === MAGIC_STREAM[i];
    }
    if (!rpc && !stream) {
      return new CodecError('bRPC: bad magic, expected "PRPC"', 'MELTEMI_ERR_BAD_MAGIC');
    }
    if (available < HEADER_SIZE) return undefined;
    if (stream && !this.#pinStreams) return new CodecError(STREAM_UNSUPPORTED, 'MELTEMI_ERR_UNSUPPORTED');
    const bodySize = reader.uint32BE(4);
    const metaSize = reader.uint32BE(8);
    const total = HEADER_SIZE + bodySize;
    if (total > this.#maxFrameSize) {
      return new CodecError(`bRPC: frame of ${total} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    }
    if (metaSize > bodySize) return new CodecError(`bRPC: meta_size ${metaSize} > body_size ${bodySize}`);
    if (available < total) return undefined;
    const frame = reader.take(total);
    try {
      return stream ? this.#decodeStream(frame, metaSize) : this.#decodeRpc(frame, metaSize, bodySize);
    } catch (err) {
      if (err instanceof ProtobufWireError) return new CodecError(`bRPC: malformed meta: ${err.message}`);
      throw err;
    }
  }

  #decodeRpc(frame: Buffer, metaSize: number, bodySize: number): DecodeResult {
    const metaEnd = HEADER_SIZE + metaSize;
    const scan = scanRpcMeta(frame, HEADER_SIZE, metaEnd, this.#scan);
    if (scan.attachmentSize < 0 || scan.attachmentSize > bodySize - metaSize) {
      return new CodecError(`bRPC: attachment_size ${scan.attachmentSize} exceeds the body`);
    }
    if (scan.hasStreamSettings && !this.#pinStreams) return new CodecError(STREAM_UNSUPPORTED, 'MELTEMI_ERR_UNSUPPORTED');
    const meta = frame.subarray(HEADER_SIZE, metaEnd);
    if (this.#side === 'server') {
      if (scan.requestStart < 0) return new CodecError('bRPC: request without RpcMeta.request');
      const md = new BrpcMetadata(meta, scan.requestStart - HEADER_SIZE, scan.requestEnd - HEADER_SIZE);
      return withIdRange(new BrpcMessage(MessageType.Request, scan.correlationId, frame, metaEnd, md), scan);
    }
    if (scan.requestStart >= 0 && scan.responseStart < 0) {
      return new CodecError('bRPC: request frame received on the client side');
    }
    const msg = withIdRange(new BrpcMessage(MessageType.Response, scan.correlationId, frame, metaEnd, new BrpcMetadata(meta, -1, -1)), scan);
    // A response without RpcMeta.response is a success: brpc reads error_code's default 0.
    if (scan.responseStart >= 0 && readResponseMeta(frame, scan.responseStart, scan.responseEnd).errorCode !== 0) {
      msg.status = ResponseStatus.Error;
    }
    return msg;
  }

  #decodeStream(frame: Buffer, metaSize: number): DecodeResult {
    const metaEnd = HEADER_SIZE + metaSize;
    const sm = readStreamFrameMeta(frame, HEADER_SIZE, metaEnd);
    const closing = sm.frameType === StreamFrameType.Close || sm.frameType === StreamFrameType.Rst;
    const type = closing ? MessageType.StreamCloseTwoWay : MessageType.StreamData;
    const msg = new BrpcMessage(type, sm.streamId, frame, metaEnd, new BrpcMetadata(frame.subarray(HEADER_SIZE, metaEnd), -1, -1));
    msg.streamId = streamIdNumber(sm.streamId);
    if (sm.frameType === StreamFrameType.Rst) msg.status = ResponseStatus.Error;
    return msg;
  }

  /**
   * Rewrites RpcMeta.correlation_id (StreamFrameMeta.stream_id for STRM frames). Patched in
   * place when the varint keeps its length; otherwise the meta is re-spliced (every other
   * field verbatim) and a new frame with corrected meta_size and body_size replaces
   * `message.frame`.
   */
  setRequestId(message: Message, id: RequestId): void {
    const frame = message.frame;
    const metaEnd = HEADER_SIZE + metaSizeOf(frame);
    const field = isStreamFrame(frame) ? StreamFrameMetaField.StreamId : RpcMetaField.CorrelationId;
    const value = normalizeId(id);
    // The proxy keeps an id's encoded length (varintRequestIds), so this is the usual case.
    if (message instanceof BrpcMessage && message.idFrame === frame && overwriteVarint(frame, message.idStart, message.idEnd, value)) {
      message.requestId = value;
      return;
    }
    if (!patchVarintField(frame, field, value, HEADER_SIZE, metaEnd)) {
      const meta = setVarintField(frame, field, value, HEADER_SIZE, metaEnd);
      message.frame = reframe(frame, meta);
      message.headerSize = HEADER_SIZE + meta.length;
    }
    message.requestId = value;
    if (field === StreamFrameMetaField.StreamId) message.streamId = streamIdNumber(value);
  }

  /**
   * Writes `mutation` into RpcMeta.user_fields (entries with the same keys are replaced,
   * every other byte kept) and fixes both sizes. The new frame is also stored in
   * `message.frame`, so a later setRequestId applies to it.
   */
  encode(message: Message, mutation: Mutation | null): Buffer {
    if (mutation === null || mutation.size === 0 || isStreamFrame(message.frame)) return message.frame;
    const frame = message.frame;
    const meta = upsertMapEntries(frame, RpcMetaField.UserFields, mutation, HEADER_SIZE, HEADER_SIZE + metaSizeOf(frame));
    message.frame = reframe(frame, meta);
    message.headerSize = HEADER_SIZE + meta.length;
    return message.frame;
  }

  /**
   * RpcMeta `response{error_code, error_text}` with the request's correlation_id and no
   * payload. For a STRM frame, a RST of its stream.
   */
  errorReply(request: Message, error: ErrorType, text: string): Buffer {
    if (isStreamFrame(request.frame)) return buildStreamReset(request.requestId);
    return buildErrorResponse(request.requestId, brpcErrorCode(error), text);
  }

  /** baidu_std has no heartbeat. */
  heartbeatReply(_request: Message): Buffer | null {
    return null;
  }
}
