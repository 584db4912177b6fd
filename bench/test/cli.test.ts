// The bench end to end, briefly: the compiled CLI against real child processes on loopback.
// Needs `npm run build` in bench/ first (npm test does it) and the proxy built (cd .. && npm run build).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parseReport } from '../src/report/document.ts';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const MELTEMI = fileURLToPath(new URL('../../dist/proxy/cli.js', import.meta.url));
const SHORT = ['--duration', '400ms', '--warmup', '0', '--rounds', '1', '--connections', '4'];
const dir = mkdtempSync(join(tmpdir(), 'meltemi-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like bench(), without blocking this process (a proxy this test runs must keep serving meanwhile). */
function benchAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('meltemi-bench CLI', () => {
  it('runs thrift-compact through the pipe and writes a JSON and an HTML report, in folders it creates', () => {
    const json = join(dir, 'results', 'run.json');
    const html = join(dir, 'results', 'html', 'run.html');
    const r = bench('--protocol', 'thrift-compact', '--targets', 'direct,pipe', ...SHORT, '--json', json, '--html', html);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scenario thrift-compact-4x1: thrift-compact,/m);
    assert.doesNotMatch(r.stdout + readFileSync(html, 'utf8'), /dubbo-64x1: |<title>Meltemi bench: dubbo/);
    assert.match(r.stdout, /^pipe\s+-\s+[\d,]+/m);
    const report = parseReport(readFileSync(json, 'utf8'), json);
    assert.deepEqual(report.summary.map((s) => s.target), ['direct', 'pipe']);
    for (const s of report.summary) {
      assert.ok(s.completed > 0, `${s.target} completed requests`);
      assert.equal(s.errorTotal, 0);
    }
    assert.ok(report.windows.every((w) => w.timeline.length > 0));
    assert.ok(report.windows.find((w) => w.target === 'pipe')!.samples.length >= 2);
    assert.match(readFileSync(html, 'utf8'), /<svg /);
  });

  it('holds idle connections and reports the proxy RSS growth', () => {
    const json = join(dir, 'idle.json');
    const r = bench('--mode', 'idle', '--targets', 'pipe', '--connections', '300', '--duration', '300ms', '--rounds', '1', '--json', json);
    assert.equal(r.status, 0, r.stderr);
    const row = parseReport(readFileSync(json, 'utf8'), json).summary[0]!;
    assert.equal(row.completed, 0);
    assert.ok(row.proxyRssGrowth !== null && row.proxyRssGrowth > 0, 'two sockets per connection cost the pipe memory');
  });

  it('measures an external proxy the user runs, pointed at a fixed echo port, CPU included', async () => {
    const [echoPort, proxyPort] = [await freePort(), await freePort()];
    // The bench's own pipe proxy, started by hand, stands in for Envoy or another sidecar.
    const proxy = spawn(process.execPath, [fileURLToPath(new URL('../dist/servers/pipe-proxy.js', import.meta.url)), '--upstream-port', String(echoPort), '--port', String(proxyPort)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((resolve) => proxy.stdout.once('data', resolve));
      const json = join(dir, 'external.json');
      const r = await benchAsync('--protocol', 'thrift-binary', '--echo-port', String(echoPort), '--targets', 'direct,external', '--external', `127.0.0.1:${proxyPort}`, '--external-pid', String(proxy.pid), ...SHORT, '--json', json);
      assert.equal(r.status, 0, r.stderr);
      const row = parseReport(readFileSync(json, 'utf8'), json).summary.find((x) => x.target === 'external')!;
      assert.ok(row.completed > 0 && row.errorTotal === 0);
      assert.ok(row.proxyCpuUsPerReq !== null && row.proxyCpuUsPerReq > 0, 'the external pid is billed');
    } finally {
      proxy.kill();
    }
  });

  it('exits 2 with the usage on a bad option, and names the protocol minimum for a small payload', () => {
    assert.equal(bench('--targets', 'nope').status, 2);
    const r = bench('--protocol', 'dubbo', '--payload', '20');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /payload must be at least \d+ B for dubbo/);
  });

  it('routes bRPC and tRPC through Meltemi on two metadata keys, and the custom-codec hook too', () => {
    assert.ok(existsSync(MELTEMI), `build the proxy first: ${MELTEMI} is missing`);
    for (const args of [['--protocol', 'brpc'], ['--protocol', 'trpc'], ['--protocol', 'custom', '--codec-module', fileURLToPath(new URL('../examples/brpc-codec-module.mjs', import.meta.url))]]) {
      const json = join(dir, `${args[1]}.json`);
      const r = bench(...args, '--targets', 'meltemi', ...SHORT, '--json', json);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      const row = parseReport(readFileSync(json, 'utf8'), json).summary[0]!;
      assert.ok(row.completed > 0 && row.errorTotal === 0, args.join(' '));
      assert.ok(row.proxyCpuUsPerReq !== null && row.proxyCpuUsPerReq > 0);
    }
  });

  it('starts meltemi-2 with --concurrency 2, or says plainly that the CLI refused it', () => {
    assert.ok(existsSync(MELTEMI), `build the proxy first: ${MELTEMI} is missing`);
    const r = bench('--targets', 'meltemi-2', ...SHORT);
    if (r.status !== 0) assert.match(r.stderr, /rejected --concurrency 2/);
    else assert.match(r.stdout, /^meltemi-2 /m);
  });
});
