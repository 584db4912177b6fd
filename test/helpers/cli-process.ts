/** Runs the `meltemi` CLI as a child process (compiled, or from source through tsx). */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../../proxy/cli.js', import.meta.url));
const source = fileURLToPath(new URL('../../proxy/cli.ts', import.meta.url));

/**
 * Tests that read exact counters right after a call run one process (the default is one
 * worker per core, whose stats reach the admin server about once a second); tests of the
 * default pass `--concurrency` themselves.
 */
export function spawnCli(args: string[], env: Record<string, string> = {}, opts: { defaultWorkers?: boolean } = {}): ChildProcess {
  const keep = opts.defaultWorkers === true || args.includes('--concurrency') || args.includes('--validate');
  const withWorkers = keep ? args : [...args, '--concurrency', '1'];
  const argv = existsSync(compiled) ? [compiled, ...withWorkers] : ['--import', 'tsx', source, ...withWorkers];
  return spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MELTEMI_LOG_LEVEL: 'info', ...env } });
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function collect(child: ChildProcess): { done: Promise<Finished>; stderr(): string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { done, stderr: () => stderr };
}

/**
 * The admin URL of a running CLI, from its "admin server listening" log line (the port is 0 in
 * the test bootstraps, so the line is the only place it shows). Fails after `timeoutMs`.
 */
export async function loggedAdminUrl(out: { stderr(): string }, timeoutMs = 10_000): Promise<string> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    const m = /"admin":"127\.0\.0\.1:(\d+)"/.exec(out.stderr());
    if (m !== null) return `http://127.0.0.1:${m[1]}`;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`admin port not logged: ${out.stderr()}`);
}
