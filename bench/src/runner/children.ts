// Starting and stopping the bench's child processes. Every child is tracked so that the runner
// can stop exactly the processes it started (by pid), also when it fails half way.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STOP_GRACE_MS = 3000;

const live = new Set<ChildProcess>();

export interface SpawnOptions {
  /** CPU list for taskset -c (e.g. "0" or "0,1"); the affinity then covers every thread of the child. */
  readonly cpus?: string | undefined;
  readonly ipc?: boolean;
  /**
   * Open-file limit the child needs (idle runs hold thousands of sockets; the pipe proxy two per
   * connection). When above this process's soft limit, the child runs under `prlimit --nofile`
   * with the soft limit raised as far as the hard limit allows.
   */
  readonly nofile?: number;
  /** Keep stderr readable by the caller instead of sharing the runner's, and drop stdout (a proxy's logs must not mix into the table). */
  readonly captureOutput?: boolean;
}

/**
 * Runs one of the bench's own entry points, compiled (dist/...), under plain node: no loader
 * thread or transpiler in the process, so the pipe proxy's CPU and RSS compare fairly with
 * Meltemi's.
 */
export function spawnBenchChild(entry: URL, args: readonly string[], opts: SpawnOptions): ChildProcess {
  return spawnNode([fileURLToPath(entry), ...args], opts);
}

/** Runs `node <args>`, wrapped in taskset when a CPU list is given (taskset execs, so the pid stays node's). */
export function spawnNode(nodeArgs: readonly string[], opts: SpawnOptions): ChildProcess {
  let [cmd, args]: [string, string[]] = opts.cpus
    ? ['taskset', ['-c', opts.cpus, process.execPath, ...nodeArgs]]
    : [process.execPath, [...nodeArgs]];
  // prlimit execs its command too, so the pid stays node's. Without privileges the soft limit
  // can rise only up to the hard one; past that the child gets the hard limit and, if it needs
  // more, fails with EMFILE, which the run reports.
  const limits = openFileLimits();
  const nofile = opts.nofile === undefined ? undefined : Math.min(opts.nofile, limits.hard);
  if (nofile !== undefined && nofile > limits.soft) [cmd, args] = ['prlimit', [`--nofile=${nofile}:${limits.hard}`, '--', cmd, ...args]];
  const stdio: StdioOptions = opts.captureOutput ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'inherit', 'inherit'];
  if (opts.ipc) stdio.push('ipc');
  const child = spawn(cmd, args, { stdio });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** This process's soft and hard limits on open files (from /proc/self/limits; 1024 when unreadable). */
export function openFileLimits(): { soft: number; hard: number } {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    const n = (s: string | undefined): number => (s === undefined ? 1024 : s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return m === null ? { soft: 1024, hard: 1024 } : { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return { soft: 1024, hard: 1024 };
  }
}

/** Resolves with the first IPC message of the given type, or rejects if the child exits or times out. */
export function waitForMessage<T extends { type: string }>(child: ChildProcess, type: T['type'], timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: unknown): void => {
      if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type) {
        cleanup();
        resolve(msg as T);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}, signal ${signal}) before sending '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} sent no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after a grace period; resolves with the exit code (null if killed). */
export function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/** Last resort on the way out: kill whatever is still running, synchronously. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

export function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('child process has no pid (spawn failed)');
  return child.pid;
}
