/**
 * The README's first command: the quickstart runs, real calls flow, each route shows the
 * version that answered and its share, it listens on loopback only, a busy port gives one
 * line, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends every
 * process it started within 2 s.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { descendantsOf, isGone, listeningAddresses } from '../helpers/proc-processes.js';

const compiled = fileURLToPath(new URL('../../examples/quickstart/run.js', import.meta.url));
const source = fileURLToPath(new URL('../../examples/quickstart/run.ts', import.meta.url));

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
  /** Resolves once the output matches `re`; rejects if the quickstart exits first. */
  readonly waitFor: (re: RegExp) => Promise<void>;
}

/** Starts the quickstart as the leader of its own process group, as a shell runs a foreground job. */
function startQuickstart(...extra: string[]): Run {
  const args = existsSync(compiled) ? [compiled] : ['--import', 'tsx', source];
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.filter((x) => x.re.test(out))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exit,
    waitFor: (re) =>
      re.test(out)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ re, resolve });
            void exit.then((code) => reject(new Error(`quickstart exited (${code}) before printing ${re}:\n${out}`)));
          }),
  };
}

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return ok();
}

describe('the quickstart', () => {
  test('sends Dubbo calls through Meltemi, shows who answered per route, listens on loopback only', async () => {
    // Port bases away from the defaults (a quickstart a developer left running) and below
    // Linux's ephemeral range (32768 and up), where outgoing connections take ports at random.
    const run = startQuickstart('--duration', '4', '--port-base', '31880');
    await run.waitFor(/\[2s\] client/);
    for (const port of [31880, 31881, 31882, 32901]) {
      const addrs = listeningAddresses(port);
      assert.ok(addrs.length > 0, `nothing listens on ${port}`);
      assert.deepEqual([...new Set(addrs)], ['127.0.0.1'], `port ${port} listens on ${addrs.join(', ')}`);
    }
    const code = await run.exit;
    const out = run.output();
    assert.equal(code, 0, out);
    assert.match(out, /Meltemi is proxying Dubbo on 127\.0\.0\.1:31880/);
    assert.match(out, /canary-split -> demo-v1 80%, demo-v2 20%/);
    assert.match(out, /trail the client's by up to a second/);
    // The version comes from each reply; the shares are of the route's own calls.
    const share = (route: string, version: string): number => {
      const all = [...out.matchAll(new RegExp(`${route} -> ${version} +\\d+ +([\\d.]+)% of ${route}`, 'g'))];
      assert.ok(all.length > 0, `no line for ${route} -> ${version}:\n${out}`);
      return Number(all.at(-1)![1]);
    };
    assert.equal(share('plus-to-v2', 'v2'), 100);
    const v1 = share('canary-split', 'v1');
    const v2 = share('canary-split', 'v2');
    assert.ok(Math.abs(v1 + v2 - 100) < 0.2, `${v1} + ${v2}`);
    assert.ok(v1 > 65 && v1 < 95, `canary-split v1 share ${v1}%, configured 80%`);
    assert.doesNotMatch(out, /plus-to-v2 -> v1/);
    assert.match(out, / 0 errors/);
    assert.match(out, /Meltemi exited with code 0/);
  });

  test('Ctrl-C ends the quickstart and everything it started within 2 s, every time', async () => {
    for (let round = 1; round <= 4; round++) {
      const run = startQuickstart('--port-base', '25880');
      await run.waitFor(/Ctrl-C to stop/);
      // Stop at a different moment each round: before calls flow, while they flow, around a summary.
      await new Promise((r) => setTimeout(r, [0, 300, 1100, 2000][round - 1]));
      const pids = [run.child.pid!, ...descendantsOf(run.child.pid!)];
      assert.ok(pids.length >= 2, `round ${round}: meltemi not found below the quickstart`);
      if (round === 3) {
        // The terminal signals the whole group at once, but which process handles it first is
        // up to the scheduler: here Meltemi gets it well before the quickstart does.
        for (const p of pids.slice(1)) process.kill(p, 'SIGINT');
        await new Promise((r) => setTimeout(r, 400));
      }
      const t0 = Date.now();
      process.kill(-run.child.pid!, 'SIGINT');
      // Under `npm run` the signal may come twice: npm forwards it to its child as well.
      if (round % 2 === 0) setTimeout(() => process.kill(run.child.pid!, 'SIGINT'), 30).unref();
      const exited = (): boolean => run.child.exitCode !== null || run.child.signalCode !== null;
      const gone = await until(() => exited() && pids.every(isGone), 2000);
      const left = pids.filter((p) => !isGone(p));
      for (const p of left) process.kill(p, 'SIGKILL');
      assert.ok(gone, `round ${round}: after ${Date.now() - t0} ms still running: ${left.join(', ')}\n${run.output()}`);
      await run.exit;
    }
  });

  test('a busy port gives one line naming the port and --port-base', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(27881, '127.0.0.1', resolve));
    try {
      const run = startQuickstart('--duration', '1', '--port-base', '27880');
      const code = await run.exit;
      const lines = run.output().trim().split('\n');
      assert.equal(code, 1);
      assert.equal(lines.length, 1, run.output());
      assert.match(lines[0]!, /port 27881 .*in use.*--port-base/);
      assert.doesNotMatch(run.output(), /^\s+at /m);
    } finally {
      holder.close();
    }
  });
});
