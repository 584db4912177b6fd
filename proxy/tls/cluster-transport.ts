/**
 * A cluster's transport: its `transport_socket`, and the `transport_socket_matches` that
 * istiod's auto-mTLS uses (spec/istio-sidecar.md §5.1): each endpoint picks the first entry
 * whose `match` is a subset of its `envoy.transport_socket_match` metadata (Istio:
 * `tlsMode: istio`), else the cluster's own transport socket.
 */
import type { TransportSocketConfig } from '../config/tls-schema.js';
import { compileTransportSocket } from './compile-tls.js';
import { RAW_TRANSPORT } from './tls-spec.js';
import type { TransportSpec } from './tls-spec.js';

export interface ClusterTransport {
  readonly default: TransportSpec;
  readonly matches: readonly { readonly name: string; readonly match: Readonly<Record<string, string>>; readonly transport: TransportSpec }[];
  /** Stable text: a cluster whose transport changed is replaced, not updated in place. */
  readonly key: string;
}

export const PLAINTEXT_CLUSTER: ClusterTransport = { default: RAW_TRANSPORT, matches: [], key: '' };

export interface TransportSocketMatchConfig {
  readonly name: string;
  readonly match?: unknown;
  readonly transport_socket?: TransportSocketConfig | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Struct (bootstrap JSON, or xDS's `{ fields: { k: { string_value } } }`) as a string map. */
export function structStrings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  const fields = isObj(v['fields']) ? v['fields'] : v;
  for (const [k, raw] of Object.entries(fields)) {
    if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') out[k] = String(raw);
    else if (isObj(raw)) {
      for (const f of ['string_value', 'stringValue', 'number_value', 'numberValue', 'bool_value', 'boolValue']) {
        if (raw[f] !== undefined) out[k] = String(raw[f]);
      }
    }
  }
  return out;
}

/** The endpoint's `envoy.transport_socket_match` metadata, or undefined when it has none. */
export function transportMatchLabels(endpoint: Obj): Record<string, string> | undefined {
  const md = endpoint['metadata'];
  const fm = isObj(md) ? md['filter_metadata'] : undefined;
  const m = isObj(fm) ? fm['envoy.transport_socket_match'] : undefined;
  return isObj(m) ? structStrings(m) : undefined;
}

export function compileClusterTransport(
  ts: TransportSocketConfig | undefined,
  matches: readonly TransportSocketMatchConfig[] | undefined,
  path: string,
  errors: string[],
): ClusterTransport | undefined {
  const start = errors.length;
  const def = compileTransportSocket(ts, 'upstream', `${path}.transport_socket`, errors);
  const out: { name: string; match: Record<string, string>; transport: TransportSpec }[] = [];
  (matches ?? []).forEach((m, i) => {
    const t = compileTransportSocket(m.transport_socket, 'upstream', `${path}.transport_socket_matches[${i}].transport_socket`, errors);
    if (t !== undefined) out.push({ name: m.name, match: structStrings(m.match), transport: t });
  });
  if (def === undefined || errors.length > start) return undefined;
  if (def.kind === 'raw' && out.length === 0) return PLAINTEXT_CLUSTER;
  const keyOf = (t: TransportSpec): string => (t.kind === 'tls' ? t.tls.key : 'raw');
  return { default: def, matches: out, key: JSON.stringify([keyOf(def), out.map((m) => [m.name, m.match, keyOf(m.transport)])]) };
}

/** The transport of an endpoint with `labels` (its envoy.transport_socket_match metadata). */
export function transportFor(ct: ClusterTransport | undefined, labels: Readonly<Record<string, string>> | undefined): TransportSpec {
  if (ct === undefined) return RAW_TRANSPORT;
  for (const m of ct.matches) {
    if (Object.entries(m.match).every(([k, v]) => labels?.[k] === v)) return m.transport;
  }
  return ct.default;
}
