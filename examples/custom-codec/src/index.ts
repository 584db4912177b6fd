/**
 * meltemi-codec-tern: the Tern protocol as a Meltemi codec package. Meltemi finds the
 * factory as this module's default export:
 *
 *   meltemi -c bootstrap.yaml --codec aeraki.meta_protocol.codec.tern=meltemi-codec-tern
 */
import { CODEC_API_VERSION } from 'meltemi/codec';
import type { ClientCodec, CodecContext, CodecFactory, ServerCodec } from 'meltemi/codec';
import { TernCodec } from './codec.js';

export { TernCodec } from './codec.js';
export * from './protocol.js';

/** The codec name configs use (Aeraki's naming for out-of-tree codecs). */
export const TERN_CODEC_NAME = 'aeraki.meta_protocol.codec.tern';

const ternCodecFactory: CodecFactory = {
  name: TERN_CODEC_NAME,
  protocol: 'tern',
  apiVersion: CODEC_API_VERSION,
  createServerCodec: (ctx: CodecContext): ServerCodec => new TernCodec(ctx, 'server'),
  createClientCodec: (ctx: CodecContext): ClientCodec => new TernCodec(ctx, 'client'),
};

export default ternCodecFactory;
