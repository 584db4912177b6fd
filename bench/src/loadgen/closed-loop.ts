// Closed loop: every connection keeps `inflight` requests outstanding and sends a new one as
// soon as one is answered, until the window ends; then it waits for the stragglers.
import { performance } from 'node:perf_hooks';
import type { LoadJob } from '../ipc.ts';
import type { ClientConnection } from './client-connection.ts';

/** Runs one window; resolves with the elapsed milliseconds once everything is answered or abandoned. */
export function runClosedLoop(conns: readonly ClientConnection[], job: LoadJob): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    let sending = true;
    let drainTimer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      resolve(performance.now() - start);
    };
    const finishIfDrained = (): void => {
      if (conns.every((c) => c.outstanding === 0)) finish();
    };
    for (const c of conns) {
      c.onSettled = (conn, settled) => {
        if (sending) conn.send(settled, performance.now());
        else finishIfDrained();
      };
    }
    for (const c of conns) c.send(job.inflight, start);
    setTimeout(() => {
      sending = false;
      drainTimer = setTimeout(() => {
        for (const c of conns) c.abandonPending();
        finish();
      }, job.drainTimeoutMs);
      finishIfDrained();
    }, job.durationMs);
  });
}
