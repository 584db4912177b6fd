/**
 * Resources in the JSON Envoy's admin prints: proto3's canonical JSON mapping (durations as
 * "1s", timestamps in RFC 3339, 64-bit integers as strings, enums by name, defaults left
 * out) with the proto field names kept (`version_info`, not `versionInfo`), as Envoy's
 * config dump does. The schema is the project's xDS proto set, which carries the admin
 * protos too.
 *
 * A resource comes either as written in a bootstrap (proto JSON, maybe camelCase) or as the
 * xDS client decoded it (protobufjs's object form: durations as {seconds, nanos}). Both are
 * read into a message, then printed one way.
 */
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import { xdsRoot } from '../../../xds-client/proto-root.js';

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Types printed in a special form by the JSON mapping: their JSON is left as it is. */
const SPECIAL_FORM = new Set([
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.FieldMask',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  '.google.protobuf.Empty',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A message type of the schema by its full name (no leading dot) or type URL. */
export function messageType(nameOrUrl: string): protobuf.Type {
  const name = nameOrUrl.slice(nameOrUrl.lastIndexOf('/') + 1);
  return xdsRoot().lookupType(name);
}

/** `value` (proto JSON or protobufjs object form) as a message of `type`. */
function readMessage(type: protobuf.Type, value: unknown): protobuf.Message {
  try {
    // Fields the schema does not know are dropped, as Envoy drops them with
    // --allow-unknown-static-fields (the config was validated before it got here).
    return protojson.fromJson(type, value, { ignoreUnknownFields: true });
  } catch {
    return type.fromObject(value as Json);
  }
}

const REDACTED = '[redacted]';
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');

function sensitive(f: protobuf.Field): boolean {
  return f.options?.['(udpa.annotations.sensitive)'] === true;
}

/**
 * Envoy's redaction of fields marked `(udpa.annotations.sensitive)` (private keys,
 * passwords): every string in them reads "[redacted]", every bytes value the bytes of it.
 */
function redact(type: protobuf.Type | undefined, f: protobuf.Field, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => redact(type, f, x));
  if (type === undefined) return f.type === 'string' ? REDACTED : f.type === 'bytes' ? REDACTED_BYTES : v;
  if (!isObject(v) || SPECIAL_FORM.has(type.fullName)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    const inner = type.fields[k];
    if (inner === undefined) {
      out[k] = x;
      continue;
    }
    inner.resolve();
    out[k] = redact(inner.resolvedType instanceof protobuf.Type ? inner.resolvedType : undefined, inner, x);
  }
  return out;
}

/** Canonical JSON (camelCase keys) → the same with proto field names, sensitive fields redacted. */
function withProtoNames(type: protobuf.Type, json: unknown): unknown {
  if (SPECIAL_FORM.has(type.fullName) || !isObject(json)) return json;
  if (type.fullName === '.google.protobuf.Any') {
    const url = json['@type'];
    if (typeof url !== 'string') return json;
    const inner = messageType(url);
    if (SPECIAL_FORM.has(inner.fullName)) return json;
    const { '@type': _, ...fields } = json;
    return { '@type': url, ...(withProtoNames(inner, fields) as Json) };
  }
  const byJsonName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    f.resolve();
    byJsonName.set(f.jsonName, f);
  }
  const out: Json = {};
  for (const [key, v] of Object.entries(json)) {
    const f = byJsonName.get(key);
    if (f === undefined) {
      out[key] = v;
      continue;
    }
    const t = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (sensitive(f)) out[f.name] = redact(t, f, t === undefined ? v : f.repeated ? (v as unknown[]).map((x) => withProtoNames(t, x)) : withProtoNames(t, v));
    else if (t === undefined) out[f.name] = v;
    else if (f.map) out[f.name] = Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, withProtoNames(t, x)]));
    else if (f.repeated) out[f.name] = (v as unknown[]).map((x) => withProtoNames(t, x));
    else out[f.name] = withProtoNames(t, v);
  }
  return out;
}

/** `value` as a message of type `typeName`, printed as Envoy's admin prints it. */
export function toProtoJson(typeName: string, value: unknown): Json {
  const type = messageType(typeName);
  return withProtoNames(type, protojson.toJson(type, readMessage(type, value))) as Json;
}

/**
 * `value` packed in an Any of `typeName`, printed as Envoy prints an Any: `@type` first,
 * then the fields. A value the schema cannot read (a type it lacks) is printed as given,
 * with its `@type`, rather than failing the whole dump.
 */
export function packAny(typeName: string, value: unknown): Json {
  const url = TYPE_URL_PREFIX + typeName;
  try {
    return { '@type': url, ...toProtoJson(typeName, stripType(value)) };
  } catch {
    return { '@type': url, ...(isObject(value) ? (stripType(value) as Json) : {}) };
  }
}

/** A resource that names its own type (`@type`, as the xDS client decodes an Any), packed. */
export function packTyped(value: Json): Json {
  const url = value['@type'];
  if (typeof url !== 'string') throw new Error('the resource has no @type');
  return packAny(url.slice(url.lastIndexOf('/') + 1), value);
}

function stripType(value: unknown): unknown {
  if (!isObject(value) || !('@type' in value)) return value;
  const { '@type': _, ...rest } = value;
  return rest;
}

/** A time as protobuf JSON prints a Timestamp (RFC 3339, UTC). */
export function timestamp(at: Date): string {
  return at.toISOString();
}

/** Seconds as protobuf JSON prints a Duration: "1s", "0.250s", "1.500s". */
export function duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const whole = Math.trunc(ms / 1000);
  const frac = Math.abs(ms % 1000);
  const sign = ms < 0 && whole === 0 ? '-' : '';
  return frac === 0 ? `${sign}${whole}s` : `${sign}${whole}.${String(frac).padStart(3, '0')}s`;
}
