// One bench run: start the echo server, the generators and every target once, warm each target
// up, then run the rounds. Each round visits every target (in an order that rotates from round
// to round), so slow drift on a shared machine lands on all targets alike.
import { decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { emptyErrors, type ErrorCounts, type ListeningMessage, type LoadJob, type LoadResult } from '../ipc.ts';
import { newHistogram } from '../loadgen/tally.ts';
import type { BenchOptions } from '../options.ts';
import { killAllChildren, pidOf, spawnBenchChild, stopChild, waitForMessage } from './children.ts';
import { Generator, splitJob } from './generators.ts';
import { cpuDelta, readCpu, readRss, type CpuSample } from './proc-stat.ts';
import { startTarget, type RunningTarget, type TargetName } from './targets.ts';

/** One measured (or warmup) window on one target. */
export interface Window {
  readonly target: TargetName;
  /** 0 for warmup, 1.. for rounds. */
  readonly round: number;
  readonly completed: number;
  readonly sent: number;
  readonly errors: ErrorCounts;
  readonly elapsedMs: number;
  /** Latency in microseconds, all generators merged. */
  readonly histogram: Histogram;
  /** Open loop: how late the generators sent requests (part of the latency), microseconds. */
  readonly sendLag: Histogram;
  readonly proxyCpu: CpuSample | null;
  readonly proxyRss: number | null;
  readonly echoCpu: CpuSample;
  readonly loadgenCpu: CpuSample;
}

export interface RunResult {
  readonly windows: readonly Window[];
}

const SETUP_TIMEOUT_MS = 15_000;

export async function runBench(opts: BenchOptions, progress: (w: Window) => void): Promise<RunResult> {
  const started: { stop(): Promise<unknown> }[] = [];
  const onSignal = (): void => {
    killAllChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('exit', killAllChildren);
  try {
    const echo = spawnBenchChild(new URL('../servers/echo-server.js', import.meta.url), [], { cpus: opts.pin.echo, ipc: true });
    started.push({ stop: () => stopChild(echo) });
    const { port: echoPort } = await waitForMessage<ListeningMessage>(echo, 'listening', SETUP_TIMEOUT_MS, 'echo server');
    const echoPid = pidOf(echo);

    const generators = Array.from({ length: opts.generators }, (_, i) => new Generator(i, opts.pin.loadgen));
    started.push(...generators);

    const targets: RunningTarget[] = [];
    for (const name of opts.targets) {
      const t = await startTarget(name, { echoPort, meltemiCli: opts.meltemiCli, proxyCpus: opts.pin.proxy });
      targets.push(t);
      started.push(t);
    }

    const windows: Window[] = [];
    const run = async (target: RunningTarget, round: number, durationS: number): Promise<void> => {
      const w = await runWindow(opts, generators, echoPid, target, round, durationS);
      progress(w);
      if (round > 0) windows.push(w);
    };
    if (opts.warmupS > 0) for (const t of targets) await run(t, 0, opts.warmupS);
    for (let round = 1; round <= opts.rounds; round++) {
      for (let i = 0; i < targets.length; i++) await run(targets[(i + round - 1) % targets.length]!, round, opts.durationS);
    }
    return { windows };
  } finally {
    // Reverse order: proxies before the generators and the echo server they talk to.
    for (const s of started.reverse()) await s.stop();
    process.off('SIGINT', onSignal);
  }
}

async function runWindow(
  opts: BenchOptions,
  generators: readonly Generator[],
  echoPid: number,
  target: RunningTarget,
  round: number,
  durationS: number,
): Promise<Window> {
  const job: LoadJob = {
    host: '127.0.0.1',
    port: target.port,
    connections: opts.connections,
    inflight: opts.inflight,
    rate: opts.rate,
    durationMs: Math.round(durationS * 1000),
    drainTimeoutMs: Math.round(opts.drainTimeoutS * 1000),
    frameSize: opts.payload,
    firstConnection: 0,
  };
  const jobs = splitJob(job, generators.length);
  await Promise.all(generators.map((g, i) => g.call({ type: 'prepare', job: jobs[i]! }, 'ready', SETUP_TIMEOUT_MS)));

  // The CPU window brackets exactly the load: connections are already open, and they close after.
  const sample = (): { proxy: CpuSample | null; echo: CpuSample; loadgen: CpuSample[] } => ({
    proxy: target.pid === null ? null : readCpu(target.pid),
    echo: readCpu(echoPid),
    loadgen: generators.map((g) => readCpu(g.pid)),
  });
  const before = sample();
  const resultTimeout = job.durationMs + job.drainTimeoutMs + SETUP_TIMEOUT_MS;
  const replies = await Promise.all(generators.map((g) => g.call({ type: 'go' }, 'result', resultTimeout)));
  const after = sample();
  const proxyRss = target.pid === null ? null : readRss(target.pid);
  await Promise.all(generators.map((g) => g.call({ type: 'close' }, 'closed', SETUP_TIMEOUT_MS)));

  const merged = mergeResults(replies.map((r) => r.result));
  const loadgenCpu = after.loadgen
    .map((a, i) => cpuDelta(before.loadgen[i]!, a))
    .reduce((x, y) => ({ userUs: x.userUs + y.userUs, systemUs: x.systemUs + y.systemUs }));
  return {
    target: target.name,
    round,
    ...merged,
    proxyCpu: before.proxy === null || after.proxy === null ? null : cpuDelta(before.proxy, after.proxy),
    proxyRss,
    echoCpu: cpuDelta(before.echo, after.echo),
    loadgenCpu,
  };
}

function mergeResults(results: readonly LoadResult[]): Pick<Window, 'completed' | 'sent' | 'errors' | 'elapsedMs' | 'histogram' | 'sendLag'> {
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
  return { completed, sent, errors, elapsedMs, histogram, sendLag };
}
