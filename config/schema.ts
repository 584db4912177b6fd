/**
 * A small validator for Envoy-style config trees. Each schema checks a value, collects
 * errors as "<path>: <problem>" and returns a normalised copy: snake_case field names
 * (proto JSON's camelCase spellings are accepted too), durations in milliseconds.
 */

import { ENVOY_FIELDS } from './envoy-fields.generated.js';

export interface Schema<T> {
  readonly optional: boolean;
  /** What the schema accepts, for the generated docs (scripts/gen-config-docs.ts). */
  readonly shape: Shape;
  parse(value: unknown, path: string, errors: string[]): T | undefined;
}

/** The structure of a schema, read by the docs generator and the unknown-field check. */
export type Shape =
  | { readonly kind: 'string' | 'bool' | 'int' | 'duration' | 'any' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'list'; readonly item: Shape }
  | { readonly kind: 'map'; readonly value: Shape }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Schema<unknown>>>; readonly options: ObjectOptions };

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Fields = Record<string, Schema<unknown>>;
type RequiredKeys<F extends Fields> = { [K in keyof F]: F[K]['optional'] extends true ? never : K }[keyof F];
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K]['optional'] extends true ? K : never }[keyof F];
export type ObjectOf<F extends Fields> = { [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function schema<T>(shape: Shape, parse: (value: unknown, path: string, errors: string[]) => T | undefined): Schema<T> {
  return { optional: false, shape, parse };
}

export function optional<T>(s: Schema<T>): Schema<T> & { readonly optional: true } {
  return { optional: true, shape: s.shape, parse: s.parse };
}

/** `s` plus a check of the parsed value; `check` returns the problem, or undefined when fine. */
export function refine<T>(s: Schema<T>, check: (value: T) => string | undefined): Schema<T> {
  return schema(s.shape, (v, path, errors) => {
    const parsed = s.parse(v, path, errors);
    if (parsed === undefined) return undefined;
    const problem = check(parsed);
    if (problem === undefined) return parsed;
    errors.push(`${path}: ${problem}`);
    return undefined;
  });
}

export const str = (opts: { minLength?: number } = {}): Schema<string> =>
  schema({ kind: 'string' }, (v, path, errors) => {
    if (typeof v !== 'string') {
      errors.push(`${path}: expected a string, got ${describe(v)}`);
      return undefined;
    }
    if (opts.minLength !== undefined && v.length < opts.minLength) {
      errors.push(`${path}: must not be empty`);
      return undefined;
    }
    return v;
  });

export const bool = (): Schema<boolean> =>
  schema({ kind: 'bool' }, (v, path, errors) => {
    if (typeof v !== 'boolean') {
      errors.push(`${path}: expected true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  });

/** An integer; proto JSON also writes 64-bit and wrapped ints as strings. */
export const int = (opts: { min?: number; max?: number } = {}): Schema<number> =>
  schema({ kind: 'int' }, (v, path, errors) => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      errors.push(`${path}: expected an integer, got ${describe(v)}`);
      return undefined;
    }
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      errors.push(`${path}: ${n} is out of range [${opts.min ?? '-inf'}, ${opts.max ?? 'inf'}]`);
      return undefined;
    }
    return n;
  });

/** An integer that may also come wrapped as `{ value: n }` (google.protobuf.UInt32Value). */
export const wrappedInt = (opts: { min?: number; max?: number } = {}): Schema<number> => {
  const inner = int(opts);
  return schema({ kind: 'int' }, (v, path, errors) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && 'value' in v
      ? inner.parse((v as { value: unknown }).value, `${path}.value`, errors)
      : inner.parse(v, path, errors),
  );
};

export const oneOfValues = <const T extends string>(values: readonly T[]): Schema<T> =>
  schema({ kind: 'enum', values }, (v, path, errors) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      errors.push(`${path}: expected one of ${values.join(', ')}, got ${describe(v)}`);
      return undefined;
    }
    return v as T;
  });

/**
 * The longest delay a Node.js timer takes (2^31-1 ms, about 24.8 days). Every duration in
 * the config ends in a timer, and Node turns a longer one into 1 ms with only a
 * TimeoutOverflowWarning, so a longer duration is refused rather than silently shortened.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number' && v >= 0) return v * 1000;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)(s|ms)$/.exec(v.trim());
    if (m !== null) return m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'seconds' && k !== 'nanos');
    const seconds = Number(o['seconds'] ?? 0);
    const nanos = Number(o['nanos'] ?? 0);
    if (extra.length === 0 && Number.isFinite(seconds) && Number.isFinite(nanos) && seconds >= 0 && nanos >= 0) {
      return seconds * 1000 + nanos / 1e6;
    }
  }
  return undefined;
}

/**
 * A google.protobuf.Duration, in milliseconds: "1.5s" (proto JSON), "250ms" (a
 * convenience), a number of seconds, or `{ seconds, nanos }`. At most MAX_TIMER_MS;
 * `positive`: 0 is refused too (Envoy's `gt: 0` rule, e.g. connect_timeout).
 */
export const duration = (opts: { positive?: boolean } = {}): Schema<number> =>
  schema({ kind: 'duration' }, (v, path, errors) => {
    const ms = durationMs(v);
    if (ms === undefined) {
      errors.push(`${path}: expected a duration such as "1s" or "0.250s", got ${describe(v)}`);
      return undefined;
    }
    if (ms > MAX_TIMER_MS) {
      errors.push(`${path}: ${ms / 1000}s is longer than the longest timer Node.js supports (${MAX_TIMER_MS} ms, about 24.8 days)`);
      return undefined;
    }
    if (opts.positive === true && ms <= 0) {
      errors.push(`${path}: must be greater than 0`);
      return undefined;
    }
    return ms;
  });

export const list = <T>(item: Schema<T>, opts: { minItems?: number } = {}): Schema<T[]> =>
  schema({ kind: 'list', item: item.shape }, (v, path, errors) => {
    if (!Array.isArray(v)) {
      errors.push(`${path}: expected a list, got ${describe(v)}`);
      return undefined;
    }
    if (opts.minItems !== undefined && v.length < opts.minItems) {
      errors.push(`${path}: needs at least ${opts.minItems} item(s)`);
      return undefined;
    }
    const out: T[] = [];
    v.forEach((el, i) => {
      const parsed = item.parse(el, `${path}[${i}]`, errors);
      if (parsed !== undefined) out.push(parsed);
    });
    return out;
  });

/** A map with free-form keys (e.g. metadata labels): keys are kept as written. */
export const record = <T>(value: Schema<T>): Schema<Record<string, T>> =>
  schema({ kind: 'map', value: value.shape }, (v, path, errors) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      errors.push(`${path}: expected an object, got ${describe(v)}`);
      return undefined;
    }
    const out: Record<string, T> = {};
    for (const [k, el] of Object.entries(v)) {
      const parsed = value.parse(el, `${path}.${k}`, errors);
      if (parsed !== undefined) out[k] = parsed;
    }
    return out;
  });

/** Anything, kept as is (used for payloads checked later by their own schema). */
export const unknownValue = (): Schema<unknown> => schema({ kind: 'any' }, (v) => v);

function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export interface ObjectOptions {
  /** Names of fields of which at most one may be set (a proto oneof). */
  oneOf?: readonly string[][];
  /** Fields that are accepted and dropped, with the reason given in a warning. */
  ignored?: Record<string, string>;
  /**
   * The full name of the proto message this object is (e.g. `envoy.config.listener.v3.Listener`):
   * a field of that message that Meltemi lacks is "not supported by Meltemi", not a typo.
   */
  proto?: string;
}

let allowUnknownFields = false;

/**
 * Runs `parse` with fields that are in no proto (typos, or fields of a newer Envoy) accepted
 * with a warning each instead of refused: Envoy's `--allow-unknown-static-fields`, for the
 * static bootstrap only. Parsing is synchronous, so the setting cannot leak to other parses.
 */
export function withUnknownFieldsAllowed<T>(allow: boolean, parse: () => T): T {
  const before = allowUnknownFields;
  allowUnknownFields = allow;
  try {
    return parse();
  } finally {
    allowUnknownFields = before;
  }
}

/** The closest name among `names`, when it is close enough to be the intended one. */
function closest(key: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestCost = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const n of names) {
    const cost = editDistance(key, n);
    if (cost < bestCost) {
      best = n;
      bestCost = cost;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** A field not in `fields`: an Envoy field Meltemi lacks (refused), or a typo (refused, or warned). */
function unknownField(fieldPath: string, key: string, fields: Fields, opts: ObjectOptions, errors: string[]): void {
  const protoFields = opts.proto === undefined ? undefined : ENVOY_FIELDS[opts.proto];
  if (protoFields?.includes(key) === true) {
    errors.push(`${fieldPath}: not supported by Meltemi (a field of ${opts.proto} that Meltemi does not implement; see docs/configuration.md)`);
    return;
  }
  if (allowUnknownFields) {
    warnings.push(`${fieldPath}: unknown field, ignored (--allow-unknown-static-fields)`);
    return;
  }
  const guess = closest(key, [...Object.keys(fields), ...Object.keys(opts.ignored ?? {})]);
  errors.push(`${fieldPath}: unknown field${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
}

/** Warnings about ignored fields, collected while parsing (not errors). */
let warnings: string[] = [];

/** Returns and clears the warnings collected since the last call. */
export function takeWarnings(): string[] {
  const out = warnings;
  warnings = [];
  return out;
}

export const object = <F extends Fields>(fields: F, opts: ObjectOptions = {}): Schema<ObjectOf<F>> =>
  schema({ kind: 'object', fields, options: opts }, (v, path, errors) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      errors.push(`${path}: expected an object, got ${describe(v)}`);
      return undefined;
    }
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const [rawKey, el] of Object.entries(v)) {
      const key = rawKey in fields || rawKey === '@type' ? rawKey : camelToSnake(rawKey);
      const fieldPath = path === '' ? key : `${path}.${key}`;
      if (opts.ignored !== undefined && key in opts.ignored) {
        warnings.push(`${fieldPath}: ignored (${opts.ignored[key]})`);
        continue;
      }
      const field = fields[key];
      if (field === undefined) {
        unknownField(fieldPath, key, fields, opts, errors);
        continue;
      }
      if (seen.has(key)) {
        errors.push(`${fieldPath}: given twice (as ${rawKey} and in another spelling)`);
        continue;
      }
      seen.add(key);
      const parsed = field.parse(el, fieldPath, errors);
      if (parsed !== undefined) out[key] = parsed;
    }
    for (const [key, field] of Object.entries(fields)) {
      if (!field.optional && !seen.has(key)) errors.push(`${path === '' ? key : `${path}.${key}`}: required field is missing`);
    }
    for (const group of opts.oneOf ?? []) {
      const set = group.filter((k) => seen.has(k));
      if (set.length > 1) errors.push(`${path}: only one of ${group.join(', ')} may be set (found ${set.join(', ')})`);
    }
    return out as ObjectOf<F>;
  });
