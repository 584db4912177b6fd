/**
 * Content equality of decoded xDS resources (plain objects from protobufjs, Structs as plain
 * JSON), for deciding whether an update really changed anything. Byte or JSON-text equality
 * is wrong for that: a google.protobuf.Struct (the TypedStruct that carries Aeraki's config)
 * and proto maps come in any key order (Go's encoder of a map is not deterministic), and a
 * control plane may write a field at its default value where another leaves it out.
 *
 * Rules (proto3 semantics):
 * - object keys are compared as sets, in any order;
 * - a field that is absent (or null) equals the same field at its default: '', 0, false or
 *   an empty list;
 * - an empty object is not absent (a message field that is set, e.g. `ads: {}`, means
 *   something);
 * - lists are compared in order (order is meaningful in repeated fields);
 * - scalars are compared strictly ("1" is not 1), NaN equals NaN.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Absent in proto3 terms: not set, null, or a scalar/list at its default. */
function isAbsent(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
}

/** True when `a` and `b` carry the same content under the rules above. */
export function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i])) return false;
    return true;
  }
  if (isObj(a)) return isObj(b) && sameFields(a, b);
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

function sameFields(a: Obj, b: Obj): boolean {
  for (const k of Object.keys(a)) if (!sameField(a[k], b[k])) return false;
  // Keys only in b: equal only if absent-or-default there.
  for (const k of Object.keys(b)) if (!(k in a) && !isAbsent(b[k])) return false;
  return true;
}

function sameField(va: unknown, vb: unknown): boolean {
  if (va === undefined || va === null) return isAbsent(vb);
  if (vb === undefined || vb === null) return isAbsent(va);
  return sameContent(va, vb);
}
