/**
 * Overload protection settings, from Envoy's `overload_manager` (what maps) and the
 * `meltemi.overload` section (the rest). Envoy's overload manager is a typed, open-ended
 * config; Meltemi honours the monitors and actions below and refuses every other one by
 * its field path, so that a protection the operator asked for is never silently missing.
 *
 * Envoy mapping:
 * - monitor `envoy.resource_monitors.global_downstream_max_connections`
 *   (`max_active_downstream_connections`) → the process-wide connection limit;
 * - monitor `envoy.resource_monitors.fixed_heap` (`max_heap_size_bytes`) with the actions
 *   `envoy.overload_actions.stop_accepting_connections` and
 *   `envoy.overload_actions.stop_accepting_requests` triggered at `threshold.value`
 *   → the two heap watermarks;
 * - `refresh_interval` → how often the heap is sampled.
 */

/** What the running proxy enforces. Undefined: no limit. */
export interface OverloadSettings {
  /** Downstream connections of this process, all listeners together. */
  readonly maxDownstreamConnections: number | undefined;
  /** Downstream connections of one listener. */
  readonly maxConnectionsPerListener: number | undefined;
  /** Heap bytes (V8 heap + buffers) past which new connections are refused. */
  readonly heapStopAcceptingConnections: number | undefined;
  /** Heap bytes past which new requests get the protocol's overload error. */
  readonly heapStopAcceptingRequests: number | undefined;
  /** How often the heap is sampled. */
  readonly refreshIntervalMs: number;
}

/** The `meltemi.overload` section, as the bootstrap schema parsed it. */
export interface MeltemiOverloadSection {
  max_downstream_connections?: number | undefined;
  max_connections_per_listener?: number | undefined;
  heap_stop_accepting_connections_bytes?: number | undefined;
  heap_stop_accepting_requests_bytes?: number | undefined;
  refresh_interval?: number | undefined;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 250;

const FIXED_HEAP = 'envoy.resource_monitors.fixed_heap';
const MAX_CONNECTIONS = 'envoy.resource_monitors.global_downstream_max_connections';
const STOP_CONNECTIONS = 'envoy.overload_actions.stop_accepting_connections';
const STOP_REQUESTS = 'envoy.overload_actions.stop_accepting_requests';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A protobuf uint64 in JSON: a number or a decimal string. */
function positiveInt(v: unknown, path: string, errors: string[]): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n;
  errors.push(`${path}: expected a positive integer, got ${JSON.stringify(v)}`);
  return undefined;
}

function durationMs(v: unknown, path: string, errors: string[]): number | undefined {
  if (typeof v === 'number' && v > 0) return v * 1000;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)(s|ms)$/.exec(v.trim());
    if (m !== null && Number(m[1]) > 0) return m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
  }
  errors.push(`${path}: expected a positive duration such as "0.25s", got ${JSON.stringify(v)}`);
  return undefined;
}

function checkFields(o: Record<string, unknown>, allowed: readonly string[], path: string, errors: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${path}.${k}: not supported by Meltemi's overload manager`);
}

interface EnvoyOverload {
  maxConnections?: number;
  maxHeap?: number;
  thresholds: Map<string, number>;
  refreshIntervalMs?: number;
}

/** Reads Envoy's `overload_manager`, pushing an error with the field path for what Meltemi cannot honour. */
function readEnvoyOverload(doc: unknown, errors: string[]): EnvoyOverload {
  const out: EnvoyOverload = { thresholds: new Map() };
  const path = 'overload_manager';
  if (doc === undefined) return out;
  if (!isObject(doc)) {
    errors.push(`${path}: expected an object`);
    return out;
  }
  checkFields(doc, ['refresh_interval', 'resource_monitors', 'actions'], path, errors);
  if (doc['refresh_interval'] !== undefined) {
    const ms = durationMs(doc['refresh_interval'], `${path}.refresh_interval`, errors);
    if (ms !== undefined) out.refreshIntervalMs = ms;
  }
  const monitors = doc['resource_monitors'] ?? [];
  if (!Array.isArray(monitors)) errors.push(`${path}.resource_monitors: expected a list`);
  else {
    monitors.forEach((m: unknown, i) => {
      const p = `${path}.resource_monitors[${i}]`;
      if (!isObject(m)) return void errors.push(`${p}: expected an object`);
      checkFields(m, ['name', 'typed_config'], p, errors);
      const cfg = isObject(m['typed_config']) ? m['typed_config'] : {};
      if (m['name'] === MAX_CONNECTIONS) {
        checkFields(cfg, ['@type', 'max_active_downstream_connections'], `${p}.typed_config`, errors);
        const n = positiveInt(cfg['max_active_downstream_connections'], `${p}.typed_config.max_active_downstream_connections`, errors);
        if (n !== undefined) out.maxConnections = n;
      } else if (m['name'] === FIXED_HEAP) {
        checkFields(cfg, ['@type', 'max_heap_size_bytes'], `${p}.typed_config`, errors);
        const n = positiveInt(cfg['max_heap_size_bytes'], `${p}.typed_config.max_heap_size_bytes`, errors);
        if (n !== undefined) out.maxHeap = n;
      } else {
        errors.push(`${p}.name: resource monitor ${JSON.stringify(m['name'])} is not supported (Meltemi has ${FIXED_HEAP} and ${MAX_CONNECTIONS})`);
      }
    });
  }
  const actions = doc['actions'] ?? [];
  if (!Array.isArray(actions)) errors.push(`${path}.actions: expected a list`);
  else {
    actions.forEach((a: unknown, i) => {
      const p = `${path}.actions[${i}]`;
      if (!isObject(a)) return void errors.push(`${p}: expected an object`);
      checkFields(a, ['name', 'triggers'], p, errors);
      const name = a['name'];
      if (name !== STOP_CONNECTIONS && name !== STOP_REQUESTS) {
        errors.push(`${p}.name: overload action ${JSON.stringify(name)} is not supported (Meltemi has ${STOP_CONNECTIONS} and ${STOP_REQUESTS})`);
        return;
      }
      const triggers = Array.isArray(a['triggers']) ? a['triggers'] : [];
      if (triggers.length !== 1) return void errors.push(`${p}.triggers: expected exactly one trigger (on ${FIXED_HEAP})`);
      const t: unknown = triggers[0];
      const tp = `${p}.triggers[0]`;
      if (!isObject(t)) return void errors.push(`${tp}: expected an object`);
      checkFields(t, ['name', 'threshold'], tp, errors);
      if (t['name'] !== FIXED_HEAP) return void errors.push(`${tp}.name: only ${FIXED_HEAP} can trigger ${String(name)}`);
      const value = isObject(t['threshold']) ? t['threshold']['value'] : undefined;
      if (typeof value !== 'number' || !(value > 0 && value <= 1)) return void errors.push(`${tp}.threshold.value: expected a number in (0, 1]`);
      out.thresholds.set(name, value);
    });
  }
  if (out.thresholds.size > 0 && out.maxHeap === undefined) {
    errors.push(`${path}.actions: heap-triggered actions need the ${FIXED_HEAP} resource monitor (max_heap_size_bytes)`);
  }
  return out;
}

/**
 * Compiles the overload settings. Each limit may come from Envoy's overload_manager or from
 * `meltemi.overload`, not both (the error names the two fields).
 */
export function compileOverload(envoyDoc: unknown, meltemi: MeltemiOverloadSection | undefined, errors: string[]): OverloadSettings {
  const envoy = readEnvoyOverload(envoyDoc, errors);
  const m = meltemi ?? {};
  const pick = (fromEnvoy: number | undefined, envoyField: string, fromMeltemi: number | undefined, meltemiField: string): number | undefined => {
    if (fromEnvoy !== undefined && fromMeltemi !== undefined) {
      errors.push(`meltemi.overload.${meltemiField}: also set by overload_manager (${envoyField}); set it in one place`);
    }
    return fromMeltemi ?? fromEnvoy;
  };
  const heapAt = (action: string): number | undefined => {
    const t = envoy.thresholds.get(action);
    return t === undefined || envoy.maxHeap === undefined ? undefined : Math.floor(envoy.maxHeap * t);
  };
  const settings: OverloadSettings = {
    maxDownstreamConnections: pick(envoy.maxConnections, `${MAX_CONNECTIONS}`, m.max_downstream_connections, 'max_downstream_connections'),
    maxConnectionsPerListener: m.max_connections_per_listener,
    heapStopAcceptingConnections: pick(heapAt(STOP_CONNECTIONS), STOP_CONNECTIONS, m.heap_stop_accepting_connections_bytes, 'heap_stop_accepting_connections_bytes'),
    heapStopAcceptingRequests: pick(heapAt(STOP_REQUESTS), STOP_REQUESTS, m.heap_stop_accepting_requests_bytes, 'heap_stop_accepting_requests_bytes'),
    refreshIntervalMs: pick(envoy.refreshIntervalMs, 'refresh_interval', m.refresh_interval, 'refresh_interval') ?? DEFAULT_REFRESH_INTERVAL_MS,
  };
  return settings;
}
