import { CodecError } from '../../config/errors.js';
import type { CodecErrorCode } from '../../config/errors.js';

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

export { CodecError };
export type { CodecErrorCode };
