// Idle: the connections are open and send nothing for the window; the runner samples the
// proxy's memory meanwhile. What each idle connection costs a proxy is what sizes a sidecar
// that fronts many mostly quiet clients.
import { performance } from 'node:perf_hooks';
import type { LoadJob } from '../ipc.ts';
import type { ClientConnection } from './client-connection.ts';
import type { Tally } from './tally.ts';

/** Holds the connections for the window; a connection the target dropped meanwhile counts as a connection error. */
export function runIdle(conns: readonly ClientConnection[], job: LoadJob, tally: Tally): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => {
    setTimeout(() => {
      tally.errors.connection += conns.filter((c) => !c.alive).length;
      resolve(performance.now() - start);
    }, job.durationMs);
  });
}
