// A sub-millisecond clock for the open loop. Node's timers run on libuv's millisecond loop clock,
// so a 1 ms setTimeout fires about 0.6 ms late at the median on Linux (measured here), and that
// lag would be billed to every target as latency. A worker thread sleeping in Atomics.wait (a
// timed futex wait, microsecond resolution) wakes on each grid point and posts its number; the
// message wakes the main loop through its async handle, typically ~0.15 ms after the grid point.
//
// The worker is started once per process, before any window: a worker takes tens of
// milliseconds to boot, which would show up as a burst of late ticks at the start of a window.
import { performance } from 'node:perf_hooks';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

// Plain CommonJS so the worker needs no loader. control[0] is the schedule's generation: the
// main thread writes a schedule into `schedule` and bumps it; bumping it again (with no ticks)
// cuts a schedule short, which also wakes the worker from its wait.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const control = new Int32Array(workerData.control);
const schedule = new Float64Array(workerData.schedule);
let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  const generation = Atomics.load(control, 0);
  seen = generation;
  const startMs = schedule[0], periodMs = schedule[1], ticks = schedule[2];
  for (let k = 1; k <= ticks; k++) {
    const due = startMs + k * periodMs;
    for (;;) {
      const wait = due - (performance.timeOrigin + performance.now());
      if (wait <= 0 || Atomics.load(control, 0) !== generation) break;
      Atomics.wait(control, 0, generation, wait);
    }
    if (Atomics.load(control, 0) !== generation) break;
    parentPort.postMessage(generation * 0x100000000 + k);
  }
}
`;

export class Ticker {
  readonly #worker: Worker;
  readonly #control = new Int32Array(new SharedArrayBuffer(4));
  readonly #schedule = new Float64Array(new SharedArrayBuffer(24));
  #onTick: ((k: number) => void) | null = null;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control: this.#control.buffer, schedule: this.#schedule.buffer },
    });
    this.#worker.on('message', (tagged: number) => {
      // Ticks of a schedule that has since been stopped may still be queued: drop them.
      if (Math.floor(tagged / 0x100000000) === Atomics.load(this.#control, 0)) this.#onTick?.(tagged % 0x100000000);
    });
    this.#worker.unref();
  }

  /** Resolves once the worker thread runs, so the first window's ticks are not late. */
  async ready(): Promise<void> {
    await once(this.#worker, 'online');
  }

  /**
   * Calls `onTick(k)` for grid point k = 1..ticks, due at `startMs + k * periodMs` (this
   * thread's performance.now() milliseconds). Ticks are never skipped: a late one arrives late,
   * and the caller sends whatever has come due.
   */
  start(startMs: number, periodMs: number, ticks: number, onTick: (k: number) => void): void {
    this.#onTick = onTick;
    // performance.now() is per thread; timeOrigin + now() is the reading both threads share.
    this.#schedule.set([performance.timeOrigin + startMs, periodMs, ticks]);
    this.#bump();
  }

  stop(): void {
    this.#onTick = null;
    this.#schedule.set([0, 0, 0]);
    this.#bump();
  }

  close(): void {
    this.stop();
    void this.#worker.terminate();
  }

  #bump(): void {
    Atomics.add(this.#control, 0, 1);
    Atomics.notify(this.#control, 0);
  }
}
