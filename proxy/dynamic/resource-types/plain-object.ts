/** Reading decoded protos (plain objects from protobufjs) without trusting their shape. */
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A repeated field: the list, or empty when it is absent or not a list. */
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The `name` field, or ''. */
export const nameOf = (res: Obj, field = 'name'): string => (typeof res[field] === 'string' ? (res[field] as string) : '');
