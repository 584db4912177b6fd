// Open loop: requests are due on a fixed schedule (job.rate per second, spread evenly over the
// connections and staggered between them), whatever the target does. Latency counts from the
// due time, so a stalled target shows up as latency instead of as fewer samples (no coordinated
// omission). A connection holds at most `inflight` outstanding; beyond that, due requests wait
// in the generator and the wait is part of their latency.
import { performance } from 'node:perf_hooks';
import type { LoadJob } from '../ipc.ts';
import type { ClientConnection } from './client-connection.ts';
import type { Tally } from './tally.ts';

/** Timer period of the scheduler; requests due between ticks leave together at the next one. */
const TICK_MS = 1;

export function runOpenLoop(conns: readonly ClientConnection[], job: LoadJob, tally: Tally): Promise<number> {
  return new Promise((resolve) => {
    const stepMs = (1000 * conns.length) / job.rate;
    const start = performance.now();
    const end = start + job.durationMs;
    /** Due time of each connection's next request. */
    const next = conns.map((_, i) => start + (i * stepMs) / conns.length);
    let drainTimer: NodeJS.Timeout | undefined;
    let done = false;

    const unsent = (i: number): number => Math.max(0, Math.ceil((end - next[i]!) / stepMs));
    const pump = (i: number, now: number): void => {
      const c = conns[i]!;
      if (!c.alive || next[i]! > now) return;
      const due = Math.min(Math.floor((now - next[i]!) / stepMs) + 1, unsent(i));
      const n = Math.min(due, job.inflight - c.outstanding);
      if (n <= 0) return;
      c.send(n, next[i]!, stepMs);
      next[i]! += n * stepMs;
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(drainTimer);
      resolve(performance.now() - start);
    };
    const finishIfDrained = (): void => {
      if (performance.now() < end) return;
      for (let i = 0; i < conns.length; i++) {
        const c = conns[i]!;
        if (c.outstanding > 0 || (c.alive && unsent(i) > 0)) return;
      }
      finish();
    };
    const pumpAll = (now: number): void => {
      for (let i = 0; i < conns.length; i++) pump(i, now);
    };
    for (const c of conns) {
      // Any wake-up is a chance to send what has come due, on every connection: under load,
      // responses arrive far more often than the 1 ms timer fires, which keeps the send lag small.
      c.onSettled = () => {
        pumpAll(performance.now());
        finishIfDrained();
      };
    }
    const tick = (): void => {
      const now = performance.now();
      pumpAll(now);
      if (now < end) {
        setTimeout(tick, TICK_MS);
        return;
      }
      drainTimer = setTimeout(() => {
        conns.forEach((c, i) => {
          c.abandonPending();
          // Requests that were due but never left count as timed out too: the target held them up.
          if (c.alive) tally.errors.timeout += unsent(i);
        });
        finish();
      }, job.drainTimeoutMs);
      finishIfDrained();
    };
    tick();
  });
}
