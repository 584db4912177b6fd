/**
 * Error types a codec must be able to turn into its protocol's error reply. The first six
 * numbers are Aeraki's (spec/metaprotocol.md §2.1); the rest are Meltemi's additions for
 * failures Aeraki has no name for.
 */
export enum ErrorType {
  RouteNotFound = 0,
  ClusterNotFound = 1,
  NoHealthyUpstream = 2,
  BadResponse = 3,
  Unspecified = 4,
  OverLimit = 5,
  Timeout = 6,
  BadRequest = 7,
  Unauthorized = 8,
  UpstreamReset = 9,
}

/** Stable codes of codec failures; a codec failure closes only its own connection. */
export type CodecErrorCode =
  | 'MELTEMI_ERR_CODEC'
  | 'MELTEMI_ERR_FRAME_TOO_LARGE'
  | 'MELTEMI_ERR_BAD_MAGIC'
  | 'MELTEMI_ERR_UNSUPPORTED';

/** A decode failure, returned (not thrown) by `decode`. */
export class CodecError extends Error {
  readonly code: CodecErrorCode;
  constructor(message: string, code: CodecErrorCode = 'MELTEMI_ERR_CODEC') {
    super(message);
    this.name = 'CodecError';
    this.code = code;
  }
}
