import protobuf from 'protobufjs';

/** A JSON value as a google.protobuf.Value holds it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

const Struct = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/struct.proto')!).lookupType('google.protobuf.Struct');

/** google.protobuf.Value in protobufjs' object form (oneof kind). */
function asValue(v: JsonValue): object {
  if (v === null) return { nullValue: 0 };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(asValue) } };
  return { structValue: asStruct(v) };
}

function asStruct(obj: { [k: string]: JsonValue }): object {
  const fields: Record<string, object> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = asValue(v);
  return { fields };
}

/**
 * Node metadata as Istio's metadata exchange sends it in `x-envoy-peer-metadata`: a
 * serialized google.protobuf.Struct, base64 with padding.
 */
export function nodeMetadataHeader(meta: { [k: string]: JsonValue }): string {
  return Buffer.from(Struct.encode(Struct.fromObject(asStruct(meta))).finish()).toString('base64');
}
