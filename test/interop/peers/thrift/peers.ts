/**
 * Starts the Thrift interop peers (npm thrift, Debian python3-thrift, Debian libthrift C++)
 * as child processes. Peers that are not installed fail loudly: CI installs them
 * (apt-get install -y thrift-compiler python3-thrift libthrift-dev libboost-dev g++) and
 * build.sh generates and compiles the rest on first use.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The peer sources; compiled tests (dist/test/interop/peers/thrift) use the source folder. */
export const PEER_DIR = existsSync(join(HERE, 'echo.thrift')) ? HERE : join(HERE, '..', '..', '..', '..', '..', 'test', 'interop', 'peers', 'thrift');
/** Debian's python3-thrift is only importable by the system interpreter. */
export const PYTHON = '/usr/bin/python3';

export type Transport = 'framed' | 'buffered' | 'header';
export type Protocol = 'binary' | 'compact';

/** One call result as every client prints it. */
export type CallResult =
  | { ok: unknown }
  | { error: { name: string; message: string; type?: number; code?: number } };

let built = false;

/** Checks the Debian peers are installed and builds the generated code once per run. */
export function ensurePeersBuilt(): void {
  if (built) return;
  const missing: string[] = [];
  if (!existsSync('/usr/bin/thrift')) missing.push('thrift-compiler');
  if (!existsSync('/usr/include/thrift/transport/THeaderTransport.h')) missing.push('libthrift-dev');
  if (!existsSync('/usr/include/boost/version.hpp')) missing.push('libboost-dev');
  try {
    execFileSync(PYTHON, ['-c', 'import thrift.protocol.THeaderProtocol'], { stdio: 'ignore' });
  } catch {
    missing.push('python3-thrift');
  }
  if (missing.length > 0) {
    throw new Error(
      `Thrift interop peers are not installed: missing ${missing.join(', ')}. ` +
        `Run: apt-get update && apt-get install -y ${missing.join(' ')} g++`,
    );
  }
  const stamp = join(PEER_DIR, 'build', 'cpp_client');
  const sources = ['echo.thrift', 'cpp_server.cpp', 'cpp_client.cpp', 'build.sh'].map((f) => statSync(join(PEER_DIR, f)).mtimeMs);
  const fresh = existsSync(stamp) && existsSync(join(PEER_DIR, 'gen-nodejs', 'package.json')) && statSync(stamp).mtimeMs >= Math.max(...sources);
  if (!fresh) execFileSync('sh', [join(PEER_DIR, 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** A port that was free a moment ago (the python and C++ servers need one up front). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`peer exited with code ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`peer did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningPeer {
  port: number;
  name: string;
  close(): Promise<void>;
}

export interface ServerSpec {
  kind: 'node' | 'py' | 'cpp';
  transport: Transport;
  protocol: Protocol;
  /** Returned in echo replies (`<msg>@<name>`), so tests see which server answered. */
  name: string;
  /** Multiplexed service names (node and python only). */
  services?: string[];
}

/** Starts a server peer and resolves once it accepts connections. */
export async function startServer(spec: ServerSpec): Promise<RunningPeer> {
  ensurePeersBuilt();
  const port = await freePort();
  let cmd: string;
  let args: string[];
  const services = spec.services?.join(',') ?? '';
  switch (spec.kind) {
    case 'node':
      if (spec.transport === 'header') throw new Error('npm thrift has no usable THeader server (wire-formats.md §2.5)');
      cmd = process.execPath;
      args = [join(PEER_DIR, 'node_server.cjs'), String(port), spec.transport, spec.protocol, spec.name, services];
      break;
    case 'py':
      cmd = PYTHON;
      args = [join(PEER_DIR, 'py_server.py'), String(port), spec.transport, spec.protocol, spec.name, services];
      break;
    case 'cpp': {
      const mode = spec.transport === 'header' ? 'header' : `${spec.transport}-${spec.protocol}`;
      cmd = join(PEER_DIR, 'build', 'cpp_server');
      args = [String(port), mode, spec.name];
      break;
    }
  }
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await waitForPort(port, child, 10_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${spec.kind} server ${spec.name}: ${(e as Error).message}\n${stderr}`);
  }
  return {
    port,
    name: spec.name,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client timed out after ${timeoutMs} ms: ${cmd} ${args.join(' ')}\n${err}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && out.trim() === '') reject(new Error(`client exited ${code}: ${cmd} ${args.join(' ')}\n${err}`));
      else resolve(out);
    });
  });
}

/** One call: a method name and its arguments, e.g. ['add', 1, 2]. */
export type Call = [string, ...Array<string | number>];

export interface NodeClientSpec {
  port: number;
  transport: 'framed' | 'buffered';
  protocol: Protocol;
  calls: Call[];
  service?: string;
  pipeline?: boolean;
}

/** Runs the npm thrift client; one result per call. */
export async function runNodeClient(spec: NodeClientSpec): Promise<CallResult[]> {
  ensurePeersBuilt();
  const out = await run(
    process.execPath,
    [join(PEER_DIR, 'node_client.cjs'), String(spec.port), spec.transport, spec.protocol, JSON.stringify(spec.calls), spec.service ?? '', spec.pipeline ? 'pipeline' : 'seq'],
    30_000,
  );
  return JSON.parse(out) as CallResult[];
}

export interface PyClientSpec {
  port: number;
  transport: Transport;
  protocol: Protocol;
  calls: Call[];
  service?: string;
  headers?: Record<string, string>;
}

function pyArgs(spec: PyClientSpec): string[] {
  const args = [join(PEER_DIR, 'py_client.py'), String(spec.port), spec.transport, spec.protocol, JSON.stringify(spec.calls)];
  if (spec.service !== undefined) args.push('--service', spec.service);
  for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('--header', `${k}=${v}`);
  return args;
}

/** Runs the python3-thrift client (seqid 0 on every call); one result per call. */
export async function runPyClient(spec: PyClientSpec): Promise<CallResult[]> {
  ensurePeersBuilt();
  return JSON.parse(await run(PYTHON, pyArgs(spec), 30_000)) as CallResult[];
}

/** Runs `parallel` python clients at once, each on its own connection; "{t}" = thread index. */
export async function runPyClients(spec: PyClientSpec, parallel: number): Promise<CallResult[][]> {
  ensurePeersBuilt();
  return JSON.parse(await run(PYTHON, [...pyArgs(spec), '--parallel', String(parallel)], 60_000)) as CallResult[][];
}

/** Runs the C++ THeader client's fixed script (see cpp_client.cpp). */
export async function runCppClient(port: number, protocol: Protocol, msg = 'hello'): Promise<CallResult[]> {
  ensurePeersBuilt();
  return JSON.parse(await run(join(PEER_DIR, 'build', 'cpp_client'), [String(port), protocol, msg], 30_000)) as CallResult[];
}
