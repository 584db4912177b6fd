import { packAny, timestamp } from './proto-json.js';
import type { ActiveRecord, DynamicRecords, RejectedRecord } from './source.js';

type Json = Record<string, unknown>;

/**
 * One entry of `configs`: Envoy's config tracker key (which orders the sections, as
 * Envoy's sorted map does), the section's message name, and its fields.
 */
export interface DumpSection {
  readonly key: string;
  readonly typeName: string;
  readonly body: Json;
}

/** Tells whether a resource name passes `?name_regex=`. */
export type NameFilter = (name: string) => boolean;

/** proto3 JSON leaves out fields at their default: an empty string, list or object. */
export function compact(o: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/** Envoy's UpdateFailureState of a rejected resource. */
export function errorState(r: RejectedRecord): Json {
  return compact({
    failed_configuration: packAny(r.typeName, r.resource),
    last_update_attempt: timestamp(r.at),
    details: r.details,
    version_info: r.version,
  });
}

/**
 * Dynamic entries shaped `{version_info, <field>, last_updated, error_state}` (clusters,
 * endpoints, route tables): one per name, active or rejected or both, in name order.
 */
export function dynamicEntries(records: DynamicRecords, field: string, keep: NameFilter): Json[] {
  const active = new Map<string, ActiveRecord>(records.active.map((a) => [a.name, a]));
  const rejected = new Map<string, RejectedRecord>(records.rejected.map((r) => [r.name, r]));
  const names = [...new Set([...active.keys(), ...rejected.keys()])].filter(keep).sort();
  return names.map((name) => {
    const a = active.get(name);
    const r = rejected.get(name);
    return compact({
      version_info: a?.version,
      [field]: a === undefined ? undefined : packAny(a.typeName, a.resource),
      last_updated: a === undefined ? undefined : timestamp(a.lastUpdated),
      error_state: r === undefined ? undefined : errorState(r),
      // Only what the proxy knows for sure: a refused update (Envoy's CSDS status).
      client_status: r === undefined ? undefined : 'NACKED',
    });
  });
}
