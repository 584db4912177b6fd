/**
 * Ctrl-C for the quickstart. A terminal sends SIGINT to the whole foreground process group, and
 * `npm run` forwards it once more, so the first signal starts an orderly stop, later ones are
 * ignored, and a deadline ends the process whatever is still pending: Ctrl-C always returns
 * the prompt within two seconds.
 */
import type { ChildProcess } from 'node:child_process';

/** Orderly stop first; past this, whatever is left is killed. */
export const STOP_DEADLINE_MS = 1500;

export class Shutdown {
  #requested = false;
  readonly #children = new Set<ChildProcess>();
  readonly #listeners: (() => void)[] = [];

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => this.request());
    // A crash or process.exit must not leave a child (in its own process group) running.
    process.on('exit', () => this.killChildren('SIGKILL'));
  }

  get requested(): boolean {
    return this.#requested;
  }

  /** Child processes to stop with the quickstart. */
  adopt(child: ChildProcess): void {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
  }

  onRequest(listener: () => void): void {
    this.#listeners.push(listener);
  }

  request(): void {
    if (this.#requested) return;
    this.#requested = true;
    setTimeout(() => {
      console.error(`\nquickstart: not stopped after ${STOP_DEADLINE_MS} ms, killing what is left`);
      this.killChildren('SIGKILL');
      process.exit(130);
    }, STOP_DEADLINE_MS).unref();
    for (const l of this.#listeners) l();
  }

  killChildren(signal: NodeJS.Signals): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  }
}

/** Resolves when the child has exited, also when it exited before this was called. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
