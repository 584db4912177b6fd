/**
 * Counters of one listener, named as Aeraki names them under
 * `meta_protocol.<protocol>.<stat_prefix>.` (spec/metaprotocol.md §8.3). Plain fields, so
 * an increment on the hot path is a property write.
 */
export class ListenerStats {
  readonly prefix: string;
  cx_total = 0;
  cx_active = 0;
  cx_destroy_with_active_rq = 0;
  request = 0;
  request_twoway = 0;
  request_oneway = 0;
  request_event = 0;
  request_active = 0;
  request_decoding_success = 0;
  request_decoding_error = 0;
  request_timeout = 0;
  request_local_error = 0;
  response = 0;
  response_success = 0;
  response_error = 0;
  response_business_exception = 0;
  response_decoding_error = 0;
  local_response_business_exception = 0;
  route_not_found = 0;
  cluster_not_found = 0;
  no_healthy_upstream = 0;
  upstream_cx_connect_fail = 0;
  upstream_reset = 0;
  downstream_pause = 0;
  downstream_resume = 0;
  idle_timeout = 0;

  constructor(protocol: string, statPrefix: string) {
    this.prefix = `meta_protocol.${protocol}.${statPrefix}.`;
  }

  /** `name: value` lines, Envoy's /stats text format. */
  lines(): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(this)) if (typeof v === 'number') out.push(`${this.prefix}${k}: ${v}`);
    return out;
  }
}
