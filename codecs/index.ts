/**
 * The codecs built into Meltemi (`meltemi/codecs`): Aeraki's Dubbo, Thrift, bRPC and tRPC, as
 * CodecFactory values of the public codec SPI (`meltemi/codec`). The runtime registers them
 * by name; a tool (the bench's load generator, a test client) can frame traffic with them.
 */
import type { CodecFactory } from './api/index.js';
import { brpcCodecFactory } from './brpc/index.js';
import { dubboCodecFactory } from './dubbo/index.js';
import { thriftCodecFactory } from './thrift/index.js';
import { trpcCodecFactory } from './trpc/index.js';

export { brpcCodecFactory, dubboCodecFactory, thriftCodecFactory, trpcCodecFactory };

/** Every built-in codec, in registry order. */
export const BUILTIN_CODECS: readonly CodecFactory[] = [dubboCodecFactory, thriftCodecFactory, brpcCodecFactory, trpcCodecFactory];
