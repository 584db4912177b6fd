// One bench run: start the echo server, the generators and every target once, warm each target
// up, then run the rounds. Each round visits every target (in an order that rotates from round
// to round), so slow drift on a shared machine lands on all targets alike. A sweep repeats the
// rounds at each rate; idle holds connections open instead of sending.
import { decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { emptyErrors, totalErrors, type ErrorCounts, type ListeningMessage, type LoadJob, type LoadMode, type LoadResult, type TimelinePoint } from '../ipc.ts';
import { newHistogram } from '../loadgen/tally.ts';
import type { BenchOptions } from '../options.ts';
import type { BenchProtocol } from '../protocols/protocol.ts';
import { killAllChildren, pidOf, spawnBenchChild, stopChild, waitForMessage } from './children.ts';
import { Generator, splitJob } from './generators.ts';
import { cpuDelta, readCpu, readRss, readTreeCpu, readTreeRss, type CpuSample } from './proc-stat.ts';
import type { TargetName } from './target-names.ts';
import { startTarget, type RunningTarget } from './targets.ts';

/** The proxy's resources at one moment of a window. */
export interface ResourceSample {
  /** Milliseconds from the window's start. */
  readonly tMs: number;
  /** Proxy CPU (user + system) since the window's start, microseconds. */
  readonly cpuUs: number;
  readonly rss: number;
}

/** One measured (or warmup) window on one target. */
export interface Window {
  readonly target: TargetName;
  /** 0 for warmup, 1.. for rounds. */
  readonly round: number;
  /** Open-loop rate of this window (the sweep's step), 0 in the closed loop and idle. */
  readonly rate: number;
  readonly completed: number;
  readonly sent: number;
  readonly errors: ErrorCounts;
  readonly elapsedMs: number;
  /** Latency in microseconds, all generators merged. */
  readonly histogram: Histogram;
  /** Open loop: how late the generators sent requests (part of the latency), microseconds. */
  readonly sendLag: Histogram;
  readonly timeline: readonly TimelinePoint[];
  readonly proxyCpu: CpuSample | null;
  /** Proxy RSS before the window's connections opened, and after the load. */
  readonly proxyRssBefore: number | null;
  readonly proxyRss: number | null;
  readonly samples: readonly ResourceSample[];
  readonly echoCpu: CpuSample;
  /** Echo server RSS before the connections opened and after the load: on `direct` in idle mode, the floor of a bare Node server holding them. */
  readonly echoRssBefore: number;
  readonly echoRss: number;
  readonly loadgenCpu: CpuSample;
}

export interface RunResult {
  readonly windows: readonly Window[];
  readonly echoPort: number;
}

export interface RunCallbacks {
  /** A window ended (warmups included). */
  window(w: Window): void;
  /** A line for the user (echo port, sweep progress). */
  note(line: string): void;
}

const SETUP_TIMEOUT_MS = 15_000;
/** Idle windows open thousands of connections; give that its own, longer limit. */
const IDLE_SETUP_TIMEOUT_MS = 120_000;

export async function runBench(opts: BenchOptions, protocol: BenchProtocol, cb: RunCallbacks): Promise<RunResult> {
  const started: { stop(): Promise<unknown> }[] = [];
  const onSignal = (): void => {
    killAllChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('exit', killAllChildren);
  try {
    const echoArgs = ['--protocol', opts.protocol, '--port', String(opts.echoPort)];
    if (opts.codecModule !== undefined) echoArgs.push('--codec-module', opts.codecModule);
    // Every process holds up to two sockets per connection (the pipe proxy: both sides), plus slack.
    const nofile = 2 * opts.connections + 1024;
    const echo = spawnBenchChild(new URL('../servers/echo-server.js', import.meta.url), echoArgs, { cpus: opts.pin.echo, ipc: true, nofile });
    started.push({ stop: () => stopChild(echo) });
    const { port: echoPort } = await waitForMessage<ListeningMessage>(echo, 'listening', SETUP_TIMEOUT_MS, 'echo server');
    const echoPid = pidOf(echo);
    cb.note(`echo server (${protocol.name}) on 127.0.0.1:${echoPort}`);

    const generators = Array.from({ length: opts.generators }, (_, i) => new Generator(i, opts.pin.loadgen, nofile));
    started.push(...generators);

    const targets: RunningTarget[] = [];
    for (const name of opts.targets) {
      const t = await startTarget(name, {
        echoPort,
        meltemiCli: opts.meltemiCli,
        meltemiFilters: opts.meltemiFilters,
        proxyCpus: opts.pin.proxy,
        protocol,
        external: opts.external,
        nofile,
        profileDir: opts.profileDir,
        routeSwapS: opts.routeSwapS,
      });
      targets.push(t);
      started.push(t);
    }

    const windows: Window[] = [];
    const mode: LoadMode = opts.mode === 'idle' ? 'idle' : opts.mode === 'closed' || (opts.mode === 'soak' && opts.rate === 0) ? 'closed' : 'open';
    const run = async (target: RunningTarget, round: number, durationS: number, rate: number): Promise<Window> => {
      const w = await runWindow(opts, { mode, rate, durationS }, generators, echoPid, target, round);
      cb.window(w);
      if (round > 0) windows.push(w);
      return w;
    };
    const rounds = async (rate: number): Promise<Window[]> => {
      const out: Window[] = [];
      for (let round = 1; round <= opts.rounds; round++) {
        for (let i = 0; i < targets.length; i++) out.push(await run(targets[(i + round - 1) % targets.length]!, round, opts.durationS, rate));
      }
      return out;
    };

    if (opts.mode === 'sweep') {
      const first = opts.sweep.rates[0]!;
      if (opts.warmupS > 0) for (const t of targets) await run(t, 0, opts.warmupS, first);
      for (const rate of opts.sweep.rates) {
        cb.note(`sweep: ${rate} req/s`);
        const ws = await rounds(rate);
        // Past every target's knee, higher rates only queue: stop there.
        if (targets.every((t) => !withinBound(ws.filter((w) => w.target === t.name), rate, opts.sweep.p99BoundUs))) {
          cb.note(`sweep: every target is past its knee at ${rate} req/s; stopping`);
          break;
        }
      }
    } else {
      if (opts.warmupS > 0 && opts.mode !== 'idle') for (const t of targets) await run(t, 0, opts.warmupS, opts.rate);
      await rounds(opts.rate);
      for (const t of targets) {
        const swaps = t.routeSwaps?.();
        if (swaps !== undefined) cb.note(`${t.name}: ${swaps.pushed} route tables pushed over MetaRDS, ${swaps.acked} ACKed`);
      }
    }
    return { windows, echoPort };
  } finally {
    // Reverse order: proxies before the generators and the echo server they talk to.
    for (const s of started.reverse()) await s.stop();
    process.off('SIGINT', onSignal);
  }
}

/**
 * Whether a target kept up with `rate` in these windows: p99 at or under the bound, no errors,
 * and at least 90% of the rate answered over the window (drain included) (an open loop that falls behind shows
 * up as latency, but a generator that cannot send is caught here).
 */
export function withinBound(ws: readonly Window[], rate: number, p99BoundUs: number): boolean {
  const h = newHistogram();
  let completed = 0;
  let elapsedMs = 0;
  let errors = 0;
  for (const w of ws) {
    h.add(w.histogram);
    completed += w.completed;
    elapsedMs += w.elapsedMs;
    errors += totalErrors(w.errors);
  }
  const ok = h.totalCount > 0 && h.getValueAtPercentile(99) <= p99BoundUs && errors === 0 && completed >= 0.9 * rate * (elapsedMs / 1000);
  h.destroy();
  return ok;
}

interface Load {
  readonly mode: LoadMode;
  readonly rate: number;
  readonly durationS: number;
}

async function runWindow(
  opts: BenchOptions,
  load: Load,
  generators: readonly Generator[],
  echoPid: number,
  target: RunningTarget,
  round: number,
): Promise<Window> {
  const job: LoadJob = {
    protocol: opts.protocol,
    codecModule: opts.codecModule,
    mode: load.mode,
    host: target.host,
    port: target.port,
    connections: opts.connections,
    inflight: opts.inflight,
    rate: load.rate,
    durationMs: Math.round(load.durationS * 1000),
    drainTimeoutMs: Math.round(opts.drainTimeoutS * 1000),
    frameSize: opts.payload,
    firstConnection: 0,
    sampleIntervalMs: Math.round(opts.sampleIntervalS * 1000),
  };
  const pid = target.pid;
  const proxyRssBefore = pid === null ? null : readTreeRss(pid);
  const echoRssBefore = readRss(echoPid);
  const setupTimeout = load.mode === 'idle' ? IDLE_SETUP_TIMEOUT_MS : SETUP_TIMEOUT_MS;
  const jobs = splitJob(job, generators.length);
  await Promise.all(generators.map((g, i) => g.call({ type: 'prepare', job: jobs[i]! }, 'ready', setupTimeout)));

  // The CPU window brackets exactly the load: connections are already open, and they close after.
  const sample = (): { proxy: CpuSample | null; echo: CpuSample; loadgen: CpuSample[] } => ({
    proxy: pid === null ? null : readTreeCpu(pid),
    echo: readCpu(echoPid),
    loadgen: generators.map((g) => readCpu(g.pid)),
  });
  const before = sample();
  const startMs = Date.now();
  const samples: ResourceSample[] = [];
  const takeSample = (): void => {
    if (pid === null || before.proxy === null) return;
    const cpu = readTreeCpu(pid);
    samples.push({ tMs: Date.now() - startMs, cpuUs: cpu.userUs + cpu.systemUs - before.proxy.userUs - before.proxy.systemUs, rss: readTreeRss(pid) });
  };
  takeSample();
  const sampler = setInterval(takeSample, job.sampleIntervalMs);
  const resultTimeout = job.durationMs + job.drainTimeoutMs + setupTimeout;
  let replies;
  try {
    replies = await Promise.all(generators.map((g) => g.call({ type: 'go' }, 'result', resultTimeout)));
  } finally {
    clearInterval(sampler);
  }
  takeSample();
  const after = sample();
  const proxyRss = pid === null ? null : readTreeRss(pid);
  const echoRss = readRss(echoPid);
  await Promise.all(generators.map((g) => g.call({ type: 'close' }, 'closed', setupTimeout)));

  const merged = mergeResults(replies.map((r) => r.result));
  const loadgenCpu = after.loadgen
    .map((a, i) => cpuDelta(before.loadgen[i]!, a))
    .reduce((x, y) => ({ userUs: x.userUs + y.userUs, systemUs: x.systemUs + y.systemUs }));
  return {
    target: target.name,
    round,
    rate: load.mode === 'open' ? load.rate : 0,
    ...merged,
    proxyCpu: before.proxy === null || after.proxy === null ? null : cpuDelta(before.proxy, after.proxy),
    proxyRssBefore,
    proxyRss,
    samples,
    echoCpu: cpuDelta(before.echo, after.echo),
    echoRssBefore,
    echoRss,
    loadgenCpu,
  };
}

type Merged = Pick<Window, 'completed' | 'sent' | 'errors' | 'elapsedMs' | 'histogram' | 'sendLag' | 'timeline'>;

function mergeResults(results: readonly LoadResult[]): Merged {
  const histogram = newHistogram();
  const sendLag = newHistogram();
  const errors = emptyErrors();
  let completed = 0;
  let sent = 0;
  let elapsedMs = 0;
  for (const r of results) {
    completed += r.completed;
    sent += r.sent;
    // Generators run side by side, so the window lasts as long as the slowest one.
    elapsedMs = Math.max(elapsedMs, r.elapsedMs);
    for (const k of Object.keys(errors) as (keyof ErrorCounts)[]) errors[k] += r.errors[k];
    for (const [into, encoded] of [[histogram, r.histogram], [sendLag, r.sendLag]] as const) {
      const h = decodeFromCompressedBase64(encoded);
      into.add(h);
      h.destroy();
    }
  }
  return { completed, sent, errors, elapsedMs, histogram, sendLag, timeline: mergeTimelines(results.map((r) => r.timeline)) };
}

/**
 * Point i of every generator covers the same interval: counts add up; percentiles cannot be
 * merged from percentiles, so the point keeps the worst generator's (an upper bound).
 */
function mergeTimelines(lines: readonly (readonly TimelinePoint[])[]): TimelinePoint[] {
  const n = Math.max(0, ...lines.map((l) => l.length));
  const out: TimelinePoint[] = [];
  for (let i = 0; i < n; i++) {
    const points = lines.flatMap((l) => (l[i] === undefined ? [] : [l[i]!]));
    out.push({
      tMs: Math.max(...points.map((p) => p.tMs)),
      completed: points.reduce((a, p) => a + p.completed, 0),
      p50Us: Math.max(...points.map((p) => p.p50Us)),
      p99Us: Math.max(...points.map((p) => p.p99Us)),
      maxUs: Math.max(...points.map((p) => p.maxUs)),
    });
  }
  return out;
}
