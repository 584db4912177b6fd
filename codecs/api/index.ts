/**
 * The public codec API (`meltemi/codec`): what a codec package imports.
 */
export { CODEC_API_VERSION } from './codec.js';
export type { ClientCodec, CodecBase, CodecContext, CodecFactory, DecodeResult, ServerCodec } from './codec.js';
export { CodecError, ErrorType } from './errors.js';
export type { CodecErrorCode } from './errors.js';
export { FrameReader } from './frame-reader.js';
export { decodeName } from './name-cache.js';
export { EMPTY_METADATA, MessageType, ResponseStatus } from './message.js';
export type { Message, Metadata, Mutation, RequestId } from './message.js';
export * from './protobuf-wire.js';
export { DelimitedFramer, FixedHeaderFramer, VarintPrefixedFramer } from './framing.js';
export type { FixedHeaderLayout, FrameResult, Framer, LengthCounts } from './framing.js';
export { CODEC_API_VERSIONS, MIN_CODEC_API_VERSION, apiVersionProblem } from './api-version.js';
export type { ApiVersionRange } from './api-version.js';
