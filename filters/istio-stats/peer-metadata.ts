import protobuf from 'protobufjs';

/** A google.protobuf.Struct as plain JSON values. */
export type StructValue = string | number | boolean | null | StructValue[] | { [k: string]: StructValue };

const root = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/struct.proto')!);
const Struct = root.lookupType('google.protobuf.Struct');

interface PbValue {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, PbValue> };
  listValue?: { values?: PbValue[] };
}

function fromValue(v: PbValue): StructValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.structValue !== undefined) return fromFields(v.structValue.fields ?? {});
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(fromValue);
  return null;
}

function fromFields(fields: Record<string, PbValue>): { [k: string]: StructValue } {
  const out: { [k: string]: StructValue } = {};
  for (const [k, v] of Object.entries(fields)) out[k] = fromValue(v);
  return out;
}

/**
 * Decodes Istio's `x-envoy-peer-metadata`: a base64 (padding optional) serialized
 * google.protobuf.Struct of the peer's node metadata. Returns {} for anything else, as
 * Aeraki's filter treats a missing or bad value as an unknown peer.
 */
export function decodePeerMetadata(b64: string | undefined): { [k: string]: StructValue } {
  if (b64 === undefined || b64 === '') return {};
  try {
    const msg = Struct.decode(Buffer.from(b64, 'base64'));
    const obj = Struct.toObject(msg) as { fields?: Record<string, PbValue> };
    return fromFields(obj.fields ?? {});
  } catch {
    return {};
  }
}

/** Encodes node metadata the way a peer's metadata_exchange filter sends it (tests, exchange). */
export function encodePeerMetadata(meta: { [k: string]: StructValue }): string {
  const toValue = (v: StructValue): object => {
    if (typeof v === 'string') return { stringValue: v };
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (v === null) return { nullValue: 0 };
    if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
    return { structValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toValue(x)])) } };
  };
  const msg = Struct.fromObject({ fields: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, toValue(v)])) });
  return Buffer.from(Struct.encode(msg).finish()).toString('base64');
}
