// Target names and the shape of a started target, apart from the code that starts them, so
// options and the Meltemi launcher need not import process management or each other.

/**
 * `direct`: the echo server itself. `pipe`: a raw TCP pipe proxy. `meltemi`: Meltemi with one
 * worker. `meltemi-<n>`: Meltemi started with `--concurrency <n>`. `external`: a proxy the user
 * runs, at `--external host:port`, pointed at the echo server. `meltemi-chain` / `meltemi-mtls`:
 * one Meltemi whose outbound listener reaches the echo server through its own inbound
 * listener, in plaintext / over Istio-style mTLS (runner/meltemi-mesh.ts).
 */
export type TargetName = string;

export const FIXED_TARGETS = ['direct', 'pipe', 'meltemi', 'meltemi-chain', 'meltemi-mtls', 'external'] as const;

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

export const TARGETS_HELP = 'direct, pipe, meltemi, meltemi-<n> (n workers), meltemi-chain (outbound → inbound hop, plaintext), meltemi-mtls (the same hop over mTLS), external';

export interface RunningTarget {
  readonly name: TargetName;
  /** Where the load generator connects. */
  readonly host: string;
  readonly port: number;
  /** The proxy process whose CPU is billed to requests (its child processes too); null when unknown or direct. */
  readonly pid: number | null;
  /** Meltemi with route swaps: tables pushed over MetaRDS so far, and how many it ACKed. */
  readonly routeSwaps?: () => { pushed: number; acked: number };
  stop(): Promise<void>;
}
