// The pool of load generator processes: splits a window's load among them and talks to each
// over IPC, so the runner sees one merged window whatever the number of processes.
import type { ChildProcess } from 'node:child_process';
import type { FromLoadgen, LoadJob, ToLoadgen } from '../ipc.ts';
import { pidOf, spawnBenchChild, stopChild } from './children.ts';

type Reply<T extends FromLoadgen['type']> = Extract<FromLoadgen, { type: T }>;

export class Generator {
  readonly #child: ChildProcess;
  readonly pid: number;
  readonly #label: string;

  constructor(index: number, cpus: string | undefined, nofile: number) {
    this.#child = spawnBenchChild(new URL('../loadgen/main.js', import.meta.url), [], { cpus, ipc: true, nofile });
    this.pid = pidOf(this.#child);
    this.#label = `load generator ${index}`;
  }

  /** Sends one message and waits for the reply of type `expect`; a 'failed' reply rejects. */
  call<T extends FromLoadgen['type']>(msg: ToLoadgen, expect: T, timeoutMs: number): Promise<Reply<T>> {
    const child = this.#child;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (reply: FromLoadgen): void => {
        if (reply.type === 'failed') {
          cleanup();
          reject(new Error(`${this.#label}: ${reply.message}`));
        } else if (reply.type === expect) {
          cleanup();
          resolve(reply as Reply<T>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`${this.#label} exited with code ${code} while waiting for '${expect}'`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.#label}: no '${expect}' within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(msg);
    });
  }

  async stop(): Promise<void> {
    await stopChild(this.#child);
  }
}

/** Splits the window's connections (and, in proportion, its rate) among the generators. */
export function splitJob(job: LoadJob, parts: number): LoadJob[] {
  const jobs: LoadJob[] = [];
  let first = job.firstConnection;
  for (let i = 0; i < parts; i++) {
    const connections = Math.floor(job.connections / parts) + (i < job.connections % parts ? 1 : 0);
    jobs.push({ ...job, connections, firstConnection: first, rate: (job.rate * connections) / job.connections });
    first += connections;
  }
  return jobs;
}
