/**
 * Wire constants of bRPC's baidu_std protocol (spec/wire-formats.md §3). Field numbers come
 * from apache/brpc `baidu_rpc_meta.proto` and `streaming_rpc_meta.proto`; error codes from
 * `errno.proto`.
 */

/** Size of the fixed header: magic, body_size, meta_size. */
export const HEADER_SIZE = 12;
/** `"PRPC"`: an RPC frame. */
export const MAGIC_RPC = Buffer.from('PRPC', 'latin1');
/** `"STRM"`: a streaming-RPC frame (StreamFrameMeta + data), same 12-byte layout. */
export const MAGIC_STREAM = Buffer.from('STRM', 'latin1');

/** RpcMeta field numbers. */
export const RpcMetaField = {
  Request: 1,
  Response: 2,
  CompressType: 3,
  CorrelationId: 4,
  AttachmentSize: 5,
  ChunkInfo: 6,
  AuthenticationData: 7,
  StreamSettings: 8,
  UserFields: 9,
} as const;

/** RpcRequestMeta field numbers. */
export const RequestMetaField = {
  ServiceName: 1,
  MethodName: 2,
  LogId: 3,
  TimeoutMs: 8,
} as const;

/** RpcResponseMeta field numbers. */
export const ResponseMetaField = {
  ErrorCode: 1,
  ErrorText: 2,
} as const;

/** StreamFrameMeta field numbers. */
export const StreamFrameMetaField = {
  StreamId: 1,
  SourceStreamId: 2,
  FrameType: 3,
} as const;

/** streaming_rpc_meta.proto FrameType. */
export const StreamFrameType = {
  Unknown: 0,
  Rst: 1,
  Close: 2,
  Data: 3,
  Feedback: 4,
} as const;

/** errno.proto codes the proxy sends in RpcResponseMeta.error_code. */
export const BrpcErrno = {
  /** Unknown service or method: brpc answers both with ENOMETHOD. */
  ENOMETHOD: 1002,
  /** Unparsable request. */
  EREQUEST: 1003,
  /** Authentication failed. */
  ERPCAUTH: 1004,
  /** RPC timed out. */
  ERPCTIMEDOUT: 1008,
  /** Internal error (brpc's generic failure). */
  EINTERNAL: 2001,
  /** Server is stopping. */
  ELOGOFF: 2003,
  /** Concurrency limit reached. */
  ELIMIT: 2004,
} as const;
