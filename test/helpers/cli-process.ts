/** Runs the `meltemi` CLI as a child process (compiled, or from source through tsx). */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../../proxy/cli.js', import.meta.url));
const source = fileURLToPath(new URL('../../proxy/cli.ts', import.meta.url));

export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const argv = existsSync(compiled) ? [compiled, ...args] : ['--import', 'tsx', source, ...args];
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
