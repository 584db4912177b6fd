/**
 * Thrift codec `aeraki.meta_protocol.codec.thrift`: framed, unframed and THeader transports,
 * binary (strict and non-strict) and compact protocols, detected per connection or fixed by
 * `codec.config` ({ transport, protocol, maxDepth }).
 */
import { CODEC_API_VERSION, type CodecContext, type CodecFactory } from '../api/index.js';
import { ThriftCodec } from './codec.js';
import { parseThriftOptions } from './options.js';

export { ThriftCodec } from './codec.js';
export { ThriftMessage } from './message.js';
export { appExceptionTypeFor } from './error-reply.js';
export { parseThriftOptions, type ThriftCodecOptions } from './options.js';

/** The factory the proxy registers under `aeraki.meta_protocol.codec.thrift`. */
export const thriftCodecFactory: CodecFactory = {
  name: 'aeraki.meta_protocol.codec.thrift',
  protocol: 'thrift',
  apiVersion: CODEC_API_VERSION,
  createServerCodec(ctx: CodecContext): ThriftCodec {
    return new ThriftCodec(ctx, parseThriftOptions(ctx.options));
  },
  createClientCodec(ctx: CodecContext): ThriftCodec {
    return new ThriftCodec(ctx, parseThriftOptions(ctx.options));
  },
};
