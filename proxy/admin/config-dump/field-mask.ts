/**
 * `?mask=` as Envoy applies it: a google.protobuf.FieldMask (comma-separated paths of proto
 * field names) that keeps only the named fields. Every path must name fields of the
 * message: each step but the last a singular message field (a mask cannot index into a
 * repeated field). Applied to the JSON the dump prints, with the schema saying what is valid.
 */
import protobuf from 'protobufjs';
import { messageType } from './proto-json.js';

type Json = Record<string, unknown>;

/** The paths of a FieldMask in its string form ("a.b,c"). */
export function maskPaths(mask: string): string[] {
  return mask
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** Envoy's FieldMask DebugString, which its error messages quote. */
export function maskDebugString(paths: readonly string[]): string {
  return paths.map((p) => `paths: "${p}"\n`).join('');
}

/** True when `path` names a field of `type` (through singular message fields). */
function validPath(type: protobuf.Type, path: string): boolean {
  let t: protobuf.Type | undefined = type;
  const steps = path.split('.');
  for (let i = 0; i < steps.length; i++) {
    const f: protobuf.Field | undefined = t?.fields[steps[i]!];
    if (f === undefined) return false;
    if (i === steps.length - 1) return true;
    f.resolve();
    if (f.repeated || f.map || !(f.resolvedType instanceof protobuf.Type)) return false;
    t = f.resolvedType;
  }
  return false;
}

/** Keeps only the fields the paths name. */
function trim(json: Json, paths: readonly string[]): Json {
  const heads = new Map<string, string[]>();
  for (const p of paths) {
    const dot = p.indexOf('.');
    const head = dot < 0 ? p : p.slice(0, dot);
    const rest = heads.get(head) ?? [];
    if (dot >= 0) rest.push(p.slice(dot + 1));
    else rest.push('');
    heads.set(head, rest);
  }
  const out: Json = {};
  for (const [head, rests] of heads) {
    const v = json[head];
    if (v === undefined) continue;
    // The whole field when a path stops at it; otherwise only what the deeper paths name.
    if (rests.includes('') || typeof v !== 'object' || v === null || Array.isArray(v)) out[head] = v;
    else {
      const inner = trim(v as Json, rests);
      if (Object.keys(inner).length > 0) out[head] = inner;
    }
  }
  return out;
}

/**
 * A top-level section trimmed to the mask (`?mask=` without `?resource=`); undefined when a
 * path is not a field of the section (Envoy then leaves the section out).
 */
export function trimSection(typeName: string, body: Json, paths: readonly string[]): Json | undefined {
  const type = messageType(typeName);
  if (!paths.every((p) => validPath(type, p))) return undefined;
  return trim(body, paths);
}

/**
 * One resource of `?resource=` trimmed to the mask. As in Envoy, a path may reach into the
 * resource's Any (`cluster.name` in a DynamicCluster): the Any keeps its `@type` and the
 * named fields of the message inside. Undefined when a path is not valid.
 */
export function trimResource(typeName: string, item: Json, paths: readonly string[]): Json | undefined {
  const type = messageType(typeName);
  const outer: string[] = [];
  const inner = new Map<string, string[]>();
  for (const p of paths) {
    const [head, ...rest] = p.split('.');
    const f = type.fields[head!];
    f?.resolve();
    const isAny = f !== undefined && !f.repeated && f.resolvedType instanceof protobuf.Type && f.resolvedType.fullName === '.google.protobuf.Any';
    if (!isAny || rest.length === 0) {
      outer.push(p);
      continue;
    }
    outer.push(head!);
    inner.set(head!, [...(inner.get(head!) ?? []), rest.join('.')]);
  }
  if (!outer.every((p) => validPath(type, p))) return undefined;
  const out = trim(item, outer);
  for (const [field, innerPaths] of inner) {
    const any = item[field] as Json | undefined;
    const url = any?.['@type'];
    if (any === undefined || typeof url !== 'string') continue;
    const innerType = messageType(url);
    if (!innerPaths.every((p) => validPath(innerType, p))) return undefined;
    const { '@type': _, ...fields } = any;
    out[field] = { '@type': url, ...trim(fields, innerPaths) };
  }
  return out;
}
