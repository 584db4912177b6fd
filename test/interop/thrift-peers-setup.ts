/**
 * Shared set-up of the Thrift interop tests: the codec registration (until the proxy
 * registers it itself) and bootstrap builders for Thrift listeners.
 */
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { findCodec, registerCodec } from '../../proxy/codec-registry.js';
import { metaProtocolListener, type RouteSpec } from '../helpers/bootstrap.js';

if (findCodec(thriftCodecFactory.name) === undefined) registerCodec(thriftCodecFactory);

/** A Thrift meta_protocol_proxy listener named `name` with `routes`. */
export function thriftListener(name: string, routes: RouteSpec[], codecConfig?: Record<string, unknown>): object {
  const listener = metaProtocolListener({ name, protocol: 'thrift', codec: thriftCodecFactory.name, routes });
  if (codecConfig === undefined) return listener;
  // codec.config carries the codec options (transport/protocol) like Aeraki's Codec.config.
  const json = JSON.parse(JSON.stringify(listener)) as {
    filter_chains: Array<{ filters: Array<{ typed_config: { codec: Record<string, unknown> } }> }>;
  };
  json.filter_chains[0]!.filters[0]!.typed_config.codec['config'] = codecConfig;
  return json;
}
