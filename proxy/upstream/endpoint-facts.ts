/**
 * Facts of an EDS / load_assignment endpoint beyond its address: its locality, priority and
 * locality weight, and its subset labels (`metadata.filter_metadata["envoy.lb"]`, as Istio
 * and Envoy's subset load balancer use them). Reads bootstrap YAML and decoded protos alike.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface LocalityFacts {
  readonly priority: number;
  readonly locality: string;
  /** undefined when the locality sets no load_balancing_weight. */
  readonly localityWeight: number | undefined;
}

export function localityFacts(loc: Obj): LocalityFacts {
  const l = isObj(loc['locality']) ? loc['locality'] : {};
  const w = loc['load_balancing_weight'];
  const weight = isObj(w) ? Number(w['value']) : typeof w === 'number' ? w : undefined;
  return {
    priority: Number(loc['priority'] ?? 0) || 0,
    locality: [l['region'], l['zone'], l['sub_zone']].map((x) => (typeof x === 'string' ? x : '')).join('/'),
    localityWeight: weight !== undefined && Number.isFinite(weight) && weight > 0 ? weight : undefined,
  };
}

/** A protobuf Struct value (decoded `{ stringValue: ... }` or already plain) as a string. */
function structValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isObj(v)) {
    for (const k of ['stringValue', 'string_value', 'numberValue', 'number_value', 'boolValue', 'bool_value']) {
      if (v[k] !== undefined) return String(v[k]);
    }
  }
  return undefined;
}

/** The endpoint's `envoy.lb` labels, or undefined when it has none. */
export function subsetLabels(endpoint: Obj): Record<string, string> | undefined {
  const md = endpoint['metadata'];
  const fm = isObj(md) ? md['filter_metadata'] : undefined;
  const lb = isObj(fm) ? fm['envoy.lb'] : undefined;
  if (!isObj(lb)) return undefined;
  const fields = isObj(lb['fields']) ? lb['fields'] : lb;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    const s = structValue(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}
