/** bRPC baidu_std codec: `aeraki.meta_protocol.codec.brpc`. */
import { CODEC_API_VERSION } from '../api/index.js';
import type { ClientCodec, CodecContext, CodecFactory, ServerCodec } from '../api/index.js';
import { BrpcCodec } from './codec.js';

export { BrpcCodec, STREAM_UNSUPPORTED } from './codec.js';
export { BrpcErrno } from './constants.js';
export { brpcErrorCode } from './error-reply.js';

/** Registers the bRPC codec under Aeraki's name. Options: `pinStreams` (see BrpcCodec). */
export const brpcCodecFactory: CodecFactory = {
  name: 'aeraki.meta_protocol.codec.brpc',
  protocol: 'brpc',
  apiVersion: CODEC_API_VERSION,
  createServerCodec(ctx: CodecContext): ServerCodec {
    return new BrpcCodec(ctx, 'server');
  },
  createClientCodec(ctx: CodecContext): ClientCodec {
    return new BrpcCodec(ctx, 'client');
  },
};
