import { CODEC_API_VERSION } from '../api/index.js';
import type { CodecContext, CodecFactory } from '../api/index.js';
import { DubboCodec } from './dubbo-codec.js';

export { DubboCodec } from './dubbo-codec.js';

/** `aeraki.meta_protocol.codec.dubbo`: Dubbo2 with hessian2 bodies. */
export const dubboCodecFactory: CodecFactory = {
  name: 'aeraki.meta_protocol.codec.dubbo',
  protocol: 'dubbo',
  apiVersion: CODEC_API_VERSION,
  createServerCodec: (ctx: CodecContext) => new DubboCodec(ctx),
  createClientCodec: (ctx: CodecContext) => new DubboCodec(ctx),
};
