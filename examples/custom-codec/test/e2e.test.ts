/**
 * End to end, as a user runs it: the real `meltemi` command with this package's bootstrap,
 * loading the Tern codec and the guard filter from this package, in front of two versions
 * of the demo server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectDemoClient } from '../demo/client.js';
import type { DemoClient } from '../demo/client.js';
import { startDemoServer } from '../demo/server.js';
import type { DemoServer } from '../demo/server.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const meltemiCli = path.join(packageDir, 'node_modules', 'meltemi', 'dist', 'proxy', 'cli.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'tern-e2e-'));

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function runMeltemi(args: string[]): Run {
  const child = spawn(process.execPath, [meltemiCli, ...args], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MELTEMI_LOG_LEVEL: 'warn' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function connectWhenUp(port: number, run: Run): Promise<DemoClient> {
  for (let i = 0; i < 200; i++) {
    try {
      return await connectDemoClient(port);
    } catch {
      if (run.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`meltemi did not start:\n${run.output()}`);
}

/** The package's own bootstrap.yaml with the demo's fixed ports swapped for free ones. */
function bootstrapFile(ports: Record<number, number>, withExtensions: boolean): string {
  let text = readFileSync(path.join(packageDir, 'bootstrap.yaml'), 'utf8');
  for (const [from, to] of Object.entries(ports)) text = text.replaceAll(`port_value: ${from} `, `port_value: ${to} `);
  if (!withExtensions) text = text.slice(0, text.indexOf('\nmeltemi:'));
  const file = path.join(tmp, withExtensions ? 'bootstrap.yaml' : 'bare.yaml');
  writeFileSync(file, text);
  return file;
}

let v1: DemoServer;
let v2: DemoServer;
let ports: Record<number, number>;

before(async () => {
  v1 = await startDemoServer('v1');
  v2 = await startDemoServer('v2');
  ports = { 9300: await freePort(), 9301: v1.port, 9302: v2.port, 9911: await freePort() };
});
after(async () => {
  await v1.close();
  await v2.close();
});

describe('meltemi with the Tern codec package', () => {
  test('routes by method and header across two versions, through the guard filter', async () => {
    const run = runMeltemi(['-c', bootstrapFile(ports, true)]);
    try {
      const client = await connectWhenUp(ports[9300]!, run);
      const greet = await client.call('demo.Greeter', 'greet', 'ada');
      assert.deepEqual([greet.ok, greet.body, greet.headers['served-by']], [true, 'hello ada from v1 via meltemi', 'v1']);
      const canary = await client.call('demo.Greeter', 'greet', 'bob', { version: 'v2' });
      assert.equal(canary.headers['served-by'], 'v2');
      const echo = await client.call('demo.Greeter', 'echo', 'ping');
      assert.deepEqual([echo.body, echo.headers['served-by']], ['ping', 'v2']);

      // Pipelined on one connection, each reply matched by its id.
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call('demo.Greeter', i % 2 === 0 ? 'echo' : 'greet', `n${i}`)));
      many.forEach((r, i) => assert.equal(r.body, i % 2 === 0 ? `n${i}` : `hello n${i} from v1 via meltemi`));

      const before = v1.received.length + v2.received.length;
      const denied = await client.call('demo.Greeter', 'admin.reset', '');
      assert.equal(denied.ok, false);
      assert.match(denied.body, /method admin\.reset is not allowed/);
      assert.equal(denied.headers['error-type'], 'Unauthorized');
      const noRoute = await client.call('other.Service', 'greet', '');
      assert.deepEqual([noRoute.ok, noRoute.headers['error-type']], [false, 'RouteNotFound']);
      assert.equal(v1.received.length + v2.received.length, before, 'refused calls never reach a server');
      assert.equal(v1.received.at(-1)?.headers['x-via'], 'meltemi', 'the filter stamped the forwarded request');
      client.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  test('--codec and --filter name the packages on the command line instead', async () => {
    const run = runMeltemi([
      '-c',
      bootstrapFile(ports, false),
      '--codec',
      'aeraki.meta_protocol.codec.tern=./dist/src/index.js',
      '--filter',
      'example.tern.filters.guard=meltemi-codec-tern/filter',
    ]);
    try {
      const client = await connectWhenUp(ports[9300]!, run);
      assert.equal((await client.call('demo.Greeter', 'greet', 'cli')).body, 'hello cli from v1 via meltemi');
      client.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  test('a codec package that is not installed stops the start with a clear message', async () => {
    const run = runMeltemi(['-c', bootstrapFile(ports, false), '--codec', 'aeraki.meta_protocol.codec.tern=meltemi-codec-missing', '--filter', 'example.tern.filters.guard=meltemi-codec-tern/filter']);
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /codec 'aeraki\.meta_protocol\.codec\.tern' \(meltemi-codec-missing\): cannot find package 'meltemi-codec-missing'/);
  });
});
