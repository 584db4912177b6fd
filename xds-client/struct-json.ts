/**
 * google.protobuf.Struct/Value/ListValue as plain JSON in protobufjs conversions (proto3's
 * canonical JSON mapping, which protobufjs does not implement). TypedStruct payloads (how
 * Aeraki's EnvoyFilter delivers the MetaProtocolProxy config) and Node.metadata need it.
 * protobufjs's built-in google.protobuf types use camelCase field names.
 */
import protobuf from 'protobufjs';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface ValueMsg {
  kind?: string;
  nullValue?: number | string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMsg;
  listValue?: { values?: ValueMsg[] };
}
interface StructMsg {
  fields?: Record<string, ValueMsg>;
}

/** Reads a decoded Value message instance (its `kind` oneof names the field that is set). */
function valueToJson(v: ValueMsg | undefined): Json {
  if (v === undefined || v === null) return null;
  switch (v.kind) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'boolValue':
      return v.boolValue ?? false;
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}

function structToJson(s: StructMsg | undefined): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

function jsonToValue(j: unknown): ValueMsg {
  if (j === null || j === undefined) return { nullValue: 0 };
  if (typeof j === 'string') return { stringValue: j };
  if (typeof j === 'number') return { numberValue: j };
  if (typeof j === 'boolean') return { boolValue: j };
  if (Array.isArray(j)) return { listValue: { values: j.map(jsonToValue) } };
  return { structValue: jsonToStruct(j as Record<string, unknown>) };
}

function jsonToStruct(j: Record<string, unknown>): StructMsg {
  const fields: Record<string, ValueMsg> = {};
  for (const [k, v] of Object.entries(j)) fields[k] = jsonToValue(v);
  return { fields };
}

/** Already in message form (`{ fields: { k: { stringValue } } }`)? */
function isStructMessage(o: unknown): boolean {
  if (typeof o !== 'object' || o === null) return false;
  const keys = Object.keys(o);
  return keys.length === 1 && keys[0] === 'fields' && typeof (o as { fields: unknown }).fields === 'object';
}

let registered = false;

/** Installs the wrappers; must run before the first Struct type is set up. */
export function registerStructWrappers(): void {
  if (registered) return;
  registered = true;
  const w = protobuf.wrappers as Record<string, protobuf.IWrapper>;
  w['.google.protobuf.Struct'] = {
    fromObject(this: protobuf.Type, object: Record<string, unknown>): protobuf.Message {
      return this.fromObject(isStructMessage(object) ? object : (jsonToStruct(object) as Record<string, unknown>));
    },
    toObject(this: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
      return structToJson(message as unknown as StructMsg);
    },
  };
}
