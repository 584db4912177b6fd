/**
 * `--config-yaml` merged over the bootstrap file the way Envoy does it: Envoy parses the
 * string into a second Bootstrap and calls `bootstrap.MergeFrom(override)`, so protobuf's
 * MergeFrom rules apply, here on the JSON form of the two messages:
 *
 *   - repeated fields (JSON arrays) are appended: the file's items, then the override's;
 *   - message fields (JSON objects) are merged field by field, recursively;
 *   - map fields and google.protobuf.Struct (MAP_FIELDS below) are merged key by key, and a
 *     key's value is replaced whole, not merged;
 *   - a singular scalar is overwritten, except by its proto3 default (0, false, ""), which
 *     MergeFrom does not copy (fields with presence, wrappers such as UInt32Value, do copy
 *     their 0: this merge cannot tell them apart and skips those too; see README);
 *   - setting one member of a oneof (ONEOFS below) clears the other members;
 *   - an Any (an object with '@type') merges its message when the type is the same; a
 *     different type is refused (MergeFrom would concatenate bytes of two message types).
 */
import { ConfigError } from '../../config/errors.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Fields that are proto maps or google.protobuf.Struct in the bootstrap's messages. */
const MAP_FIELDS = new Set([
  'filter_metadata',
  'typed_filter_metadata',
  'typed_extension_protocol_options',
  'typed_per_filter_config',
  'static_layer',
]);

/** Node.metadata is a Struct; `metadata` elsewhere is the Metadata message of maps. */
function isMapField(parentPath: string, key: string): boolean {
  return MAP_FIELDS.has(key) || (key === 'metadata' && /(^|\.)node$/.test(parentPath));
}

/** oneof groups of the bootstrap's messages, by field names that occur together only there. */
const ONEOFS: readonly (readonly string[])[] = [
  ['socket_address', 'pipe', 'envoy_internal_address'],
  ['path', 'path_config_source', 'api_config_source', 'ads', 'self'],
  ['envoy_grpc', 'google_grpc'],
  ['type', 'cluster_type'],
  ['cluster', 'weighted_clusters', 'cluster_header'],
  ['port_value', 'named_port'],
  ['exact', 'prefix', 'suffix', 'safe_regex', 'contains'],
];
const ONEOF_OF = new Map<string, readonly string[]>(ONEOFS.flatMap((g) => g.map((k) => [k, g] as const)));

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isProto3Default(v: Json): boolean {
  return v === 0 || v === false || v === '';
}

/** Merges `override` into `target` (both parsed bootstrap documents); returns `target`. */
export function mergeBootstrap(target: unknown, override: unknown, source = '--config-yaml'): unknown {
  if (override === undefined || override === null) return target;
  if (!isObject(override as Json)) throw new ConfigError([`${source}: must be a YAML or JSON mapping (a Bootstrap)`], source);
  if (target === undefined || target === null) return override;
  if (!isObject(target as Json)) return target;
  const errors: string[] = [];
  mergeMessage(target as JsonObject, override as JsonObject, '', errors);
  if (errors.length > 0) throw new ConfigError(errors, source);
  return target;
}

function mergeMessage(into: JsonObject, from: JsonObject, path: string, errors: string[]): void {
  const intoType = into['@type'];
  const fromType = from['@type'];
  if (typeof intoType === 'string' && typeof fromType === 'string' && intoType !== fromType) {
    errors.push(`${path || '(root)'}: cannot merge an Any of type ${fromType} over one of type ${intoType}`);
    return;
  }
  for (const [key, value] of Object.entries(from)) {
    const at = path === '' ? key : `${path}.${key}`;
    const group = ONEOF_OF.get(key);
    if (group !== undefined) for (const other of group) if (other !== key) delete into[other];
    const old = into[key];
    if (Array.isArray(value)) {
      into[key] = Array.isArray(old) ? [...old, ...value] : value;
    } else if (isObject(value)) {
      if (!isObject(old)) into[key] = value;
      else if (isMapField(path, key)) Object.assign(old, value);
      else mergeMessage(old, value, at, errors);
    } else if (value !== null && (!isProto3Default(value) || group !== undefined)) {
      // oneof members have presence: their 0 is copied too.
      into[key] = value;
    } else if (old === undefined && value !== null) {
      // A default over nothing changes nothing in proto; keeping it keeps the JSON readable.
      into[key] = value;
    }
  }
}
