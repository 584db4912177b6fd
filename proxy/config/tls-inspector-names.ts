/** The names of the TLS inspector listener filter (compile-listener.ts, the LDS decoder). */
export const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
/** The deprecated name Envoy still accepts. */
export const TLS_INSPECTOR_OLD = 'envoy.listener.tls_inspector';
