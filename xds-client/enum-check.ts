/**
 * Unknown enum values in decoded resources. proto3 enums are open: protobufjs decodes a
 * value it has no name for (a Cluster `type: 99`) as the bare number, which the decoders
 * would otherwise read as "not set" and silently replace with a default (STATIC,
 * ROUND_ROBIN). Envoy rejects such a resource through its protoc-gen-validate rules
 * (`(validate.rules).enum.defined_only`), so Meltemi NACKs it the same way: every enum field
 * with that rule, anywhere in the resource (Any payloads included), must hold a known value.
 */
import protobuf from 'protobufjs';
import { xdsRoot } from './proto-root.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Carried as plain JSON by the Struct wrappers (struct-json.ts): no enums inside. */
const OPAQUE = new Set(['.google.protobuf.Struct', '.google.protobuf.Value', '.google.protobuf.ListValue']);
const ANY = '.google.protobuf.Any';
const DEFINED_ONLY = '(validate.rules).enum.defined_only';
/** Deeper than any real resource; stops a hostile nesting from exhausting the stack. */
const MAX_DEPTH = 64;

function typeOfUrl(url: unknown): protobuf.Type | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return xdsRoot().lookupType(url.slice(url.lastIndexOf('/') + 1));
  } catch {
    return undefined;
  }
}

/**
 * Pushes one error per enum field of `resource` (a message of type `fullName`, decoded with
 * enums as names) that holds a value its enum does not define and whose proto says it must
 * (`defined_only`). `label` names the resource, e.g. `cluster odd`.
 */
export function checkEnumValues(fullName: string, resource: Obj, label: string, errors: string[]): void {
  walk(xdsRoot().lookupType(fullName), resource, '', label, errors, 0);
}

function walk(type: protobuf.Type, msg: Obj, path: string, label: string, errors: string[], depth: number): void {
  if (depth > MAX_DEPTH) return;
  for (const [key, value] of Object.entries(msg)) {
    const field = type.fields[key];
    if (field === undefined || value === undefined || value === null) continue;
    const rt = field.resolve().resolvedType;
    if (rt === null) continue;
    const at = path === '' ? key : `${path}.${key}`;
    const items: [string, unknown][] = field.map && isObj(value) ? Object.entries(value).map(([k, v]) => [`${at}[${JSON.stringify(k)}]`, v]) : Array.isArray(value) ? value.map((v, i) => [`${at}[${i}]`, v]) : [[at, value]];
    if (rt instanceof protobuf.Enum) {
      if (field.options?.[DEFINED_ONLY] !== true) continue;
      for (const [p, v] of items) {
        if (typeof v === 'number' && rt.valuesById[v] === undefined) errors.push(`${label}: ${p}: unknown value ${v} of enum ${rt.fullName.slice(1)}`);
      }
      continue;
    }
    if (!(rt instanceof protobuf.Type) || OPAQUE.has(rt.fullName)) continue;
    for (const [p, v] of items) {
      if (!isObj(v)) continue;
      if (rt.fullName === ANY) {
        const inner = typeOfUrl(v['@type']);
        if (inner !== undefined) walk(inner, v, p, label, errors, depth + 1);
      } else {
        walk(rt, v, p, label, errors, depth + 1);
      }
    }
  }
}
