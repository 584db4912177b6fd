// The name and description a run is reported under. A scenario file names its own shape
// (`dubbo-64x1`); once a flag changes that shape (`--protocol thrift-compact`), the file's
// name would describe another run, so the name is derived from what actually runs.
import type { Mode } from './options.ts';

/** Flags that change what is measured; the others (duration, rounds, targets, ...) keep the scenario's name. */
export const SHAPE_FLAGS = ['protocol', 'codec-module', 'mode', 'connections', 'inflight', 'rate', 'sweep-rates', 'payload'] as const;

/** The shape flags as given on the command line. */
export type ShapeFlags = Readonly<Partial<Record<(typeof SHAPE_FLAGS)[number], string>>>;

export interface RunShape {
  readonly protocol: string;
  readonly mode: Mode;
  readonly connections: number;
  readonly inflight: number;
  readonly rate: number;
  readonly payload: number;
}

/** The flags given whose value differs from the scenario file's. */
export type ShapeFlag = (typeof SHAPE_FLAGS)[number];

export function shapeOverrides(flags: ShapeFlags, file: Readonly<Record<string, unknown>>): ShapeFlag[] {
  return SHAPE_FLAGS.filter((f) => flags[f] !== undefined && (file[f] === undefined || String(file[f]) !== flags[f]));
}

/** e.g. thrift-compact-64x1, dubbo-open-10000, brpc-64x8-4096b */
export function derivedName(s: RunShape): string {
  const shape =
    s.mode === 'closed' ? `${s.connections}x${s.inflight}` : s.mode === 'open' ? `open-${s.rate}` : s.mode === 'idle' ? `idle-${s.connections}` : s.mode;
  return `${s.protocol}-${shape}${s.payload !== 128 && s.mode !== 'idle' ? `-${s.payload}b` : ''}`;
}

export function runNaming(
  fileName: string | undefined,
  fileDescription: string | undefined,
  overrides: readonly ShapeFlag[],
  flags: ShapeFlags,
  shape: RunShape,
): { name: string; description: string } {
  if (overrides.length === 0) return { name: fileName ?? derivedName(shape), description: fileDescription ?? '' };
  const changed = overrides.map((f) => `--${f} ${flags[f]}`).join(' ');
  return { name: derivedName(shape), description: `Scenario ${fileName ?? '(unnamed)'} with ${changed}.` };
}
