// Open loop: requests are due on a fixed schedule (job.rate per second, dealt round-robin over
// the connections), whatever the target does. Latency counts from the due time, so a stalled
// target shows up as latency instead of as fewer samples (no coordinated omission). A connection
// holds at most `inflight` outstanding; beyond that, due requests wait in the generator and the
// wait is part of their latency.
//
// Due times sit on a GRID_MS grid: request r is ideally at r / rate, and is due at the first grid
// point at or after that. The ticker wakes the generator on each grid point, so what the
// generator adds (its send lag) is the wake-up latency alone, the same for every target, and
// not the time between a request's ideal instant and the next timer.
import { performance } from 'node:perf_hooks';
import type { LoadJob } from '../ipc.ts';
import type { ClientConnection } from './client-connection.ts';
import type { Tally } from './tally.ts';
import type { Ticker } from './ticker.ts';

/** Grid of due times; at 10k req/s, 5 requests leave together every 0.5 ms. */
export const GRID_MS = 0.5;

export function runOpenLoop(conns: readonly ClientConnection[], job: LoadJob, tally: Tally, ticker: Ticker): Promise<number> {
  return new Promise((resolve) => {
    const count = conns.length;
    const periodMs = 1000 / job.rate;
    const total = Math.floor(job.durationMs / periodMs);
    const start = performance.now();
    /** Global index of each connection's next request: i, i + count, i + 2 * count, ... */
    const next = conns.map((_, i) => i);
    const dueOf = (r: number): number => start + Math.ceil((r * periodMs) / GRID_MS - 1e-9) * GRID_MS;
    let drainTimer: NodeJS.Timeout | undefined;
    let done = false;

    const unsent = (i: number): number => (next[i]! < total ? Math.ceil((total - next[i]!) / count) : 0);
    const pump = (i: number, now: number): void => {
      const c = conns[i]!;
      const first = next[i]!;
      if (!c.alive || first >= total || dueOf(first) > now) return;
      // Requests of this connection whose grid due time has passed.
      const lastDue = Math.min(total - 1, Math.floor(((Math.floor((now - start) / GRID_MS) * GRID_MS) / periodMs) + 1e-9));
      const due = lastDue < first ? 1 : Math.floor((lastDue - first) / count) + 1;
      const n = Math.min(due, job.inflight - c.outstanding);
      if (n <= 0) return;
      c.send(n, (k) => dueOf(first + k * count));
      next[i] = first + n * count;
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      ticker.stop();
      resolve(performance.now() - start);
    };
    const sendingOver = (): boolean => drainTimer !== undefined;
    const finishIfDrained = (): void => {
      if (!sendingOver()) return;
      for (let i = 0; i < count; i++) {
        const c = conns[i]!;
        if (c.outstanding > 0 || (c.alive && unsent(i) > 0)) return;
      }
      finish();
    };
    const pumpAll = (now: number): void => {
      for (let i = 0; i < count; i++) pump(i, now);
    };
    for (const c of conns) {
      // A response frees room under `inflight`, and may arrive before the tick's message is read.
      c.onSettled = () => {
        pumpAll(performance.now());
        finishIfDrained();
      };
    }
    const ticks = Math.ceil(job.durationMs / GRID_MS);
    ticker.start(start, GRID_MS, ticks, (k) => {
      pumpAll(performance.now());
      if (k < ticks || sendingOver()) return;
      drainTimer = setTimeout(() => {
        conns.forEach((c, i) => {
          c.abandonPending();
          // Requests that were due but never left count as timed out too: the target held them up.
          if (c.alive) tally.errors.timeout += unsent(i);
        });
        finish();
      }, job.drainTimeoutMs);
      finishIfDrained();
    });
    pumpAll(start);
  });
}
