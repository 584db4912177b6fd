/** tRPC codec: `aeraki.meta_protocol.codec.trpc`. */
import { CODEC_API_VERSION } from '../api/index.js';
import type { ClientCodec, CodecContext, CodecFactory, ServerCodec } from '../api/index.js';
import { TrpcCodec } from './codec.js';

export { TrpcCodec } from './codec.js';
export { TrpcRetCode } from './constants.js';
export { trpcRetCode } from './error-reply.js';

/** Registers the tRPC codec under Aeraki's name. */
export const trpcCodecFactory: CodecFactory = {
  name: 'aeraki.meta_protocol.codec.trpc',
  protocol: 'trpc',
  apiVersion: CODEC_API_VERSION,
  createServerCodec(ctx: CodecContext): ServerCodec {
    return new TrpcCodec(ctx, 'server');
  },
  createClientCodec(ctx: CodecContext): ClientCodec {
    return new TrpcCodec(ctx, 'client');
  },
};
