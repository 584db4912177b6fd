// Target names and what they mean, apart from the code that starts them so options can check
// names without importing process management.

/**
 * `direct`: the echo server itself. `pipe`: a raw TCP pipe proxy. `meltemi`: Meltemi with one
 * worker. `meltemi-<n>`: Meltemi started with `--concurrency <n>`. `external`: a proxy the user
 * runs, at `--external host:port`, pointed at the echo server.
 */
export type TargetName = string;

export const FIXED_TARGETS = ['direct', 'pipe', 'meltemi', 'external'] as const;

/** Workers of a `meltemi-<n>` target, or null when the name is not one. */
export function meltemiWorkers(name: string): number | null {
  const m = /^meltemi-(\d+)$/.exec(name);
  if (m === null) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= 64 ? n : null;
}

export function isTargetName(name: string): boolean {
  return (FIXED_TARGETS as readonly string[]).includes(name) || meltemiWorkers(name) !== null;
}

export const TARGETS_HELP = 'direct, pipe, meltemi, meltemi-<n> (n workers), external';
