/**
 * FilterChainMatch and listener filters as Meltemi reads them. The TLS criteria are here
 * (transport_protocol, server_names, application_protocols: proxy/downstream/filter-chain-match.ts);
 * address criteria join them as they are implemented. Any other field is refused by path.
 */
import { list, object, oneOfValues, optional, str, unknownValue } from '../../config/schema.js';
import type { Infer } from '../../config/schema.js';

export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
/** The deprecated name Envoy still accepts. */
export const TLS_INSPECTOR_OLD = 'envoy.listener.tls_inspector';

export const filterChainMatch = object(
  {
    transport_protocol: optional(oneOfValues(['', 'tls', 'raw_buffer'])),
    server_names: optional(list(str({ minLength: 1 }))),
    application_protocols: optional(list(str({ minLength: 1 }))),
  },
  { proto: 'envoy.config.listener.v3.FilterChainMatch' },
);
export type FilterChainMatchConfig = Infer<typeof filterChainMatch>;

export const listenerFilter = object({ name: str({ minLength: 1 }), typed_config: optional(unknownValue()) }, { proto: 'envoy.config.listener.v3.ListenerFilter' });
export type ListenerFilterConfig = Infer<typeof listenerFilter>;
