// Bench options: defaults, overridden by a scenario file, overridden by command-line flags.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { isProtocolName, PROTOCOL_NAMES, type ProtocolName } from './protocols/registry.ts';
import { isTargetName, TARGETS_HELP, type TargetName } from './runner/target-names.ts';
import { runNaming, shapeOverrides } from './run-name.ts';

export interface PinOptions {
  /** taskset CPU lists per role; undefined leaves the scheduler free. */
  readonly proxy: string | undefined;
  readonly echo: string | undefined;
  readonly loadgen: string | undefined;
}

/**
 * closed / open: interleaved rounds at one load. sweep: open loop at rising rates, to find each
 * target's knee. soak: one long window per target with memory sampled over time. idle: hold
 * `connections` idle connections and measure the proxy's RSS growth.
 */
export const MODES = ['closed', 'open', 'sweep', 'soak', 'idle'] as const;
export type Mode = (typeof MODES)[number];

export interface SweepOptions {
  /** Open-loop rates to try, ascending, requests/s. */
  readonly rates: readonly number[];
  /** A rate is within a target's reach while its p99 stays at or under this, microseconds. */
  readonly p99BoundUs: number;
}

export interface ExternalTarget {
  readonly host: string;
  readonly port: number;
  /** The external proxy's pid, for CPU and RSS accounting; undefined when unknown. */
  readonly pid: number | undefined;
}

export interface BenchOptions {
  readonly scenarioFile: string;
  readonly name: string;
  readonly description: string;
  readonly protocol: ProtocolName;
  readonly codecModule: string | undefined;
  readonly mode: Mode;
  readonly connections: number;
  /** Closed loop: requests in flight per connection. Open loop: cap on outstanding per connection. */
  readonly inflight: number;
  /** Open loop (and soak when set) rate in requests per second over all connections. */
  readonly rate: number;
  readonly sweep: SweepOptions;
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  /** Total request frame size in bytes, protocol header included. */
  readonly payload: number;
  readonly generators: number;
  readonly drainTimeoutS: number;
  /** Period of the proxy CPU/RSS samples and of the latency timeline, seconds. */
  readonly sampleIntervalS: number;
  readonly targets: readonly TargetName[];
  readonly external: ExternalTarget | undefined;
  /** Fixed echo server port (0: any), so an external proxy can be pointed at it before the run. */
  readonly echoPort: number;
  readonly pin: PinOptions;
  readonly json: string | undefined;
  readonly html: string | undefined;
  readonly meltemiCli: string;
  /** A YAML file with a list of `meta_protocol_filters` entries put before the router (filter cost runs). */
  readonly meltemiFilters: string | undefined;
  /** Write V8 CPU profiles of the Meltemi targets here (`node --cpu-prof`); undefined: no profiling. */
  readonly profileDir: string | undefined;
  /** Meltemi targets get a new route table over MetaRDS this often, seconds (soak); 0: never. */
  readonly routeSwapS: number;
}

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../scenarios/dubbo-64x1.yaml', import.meta.url));
const DEFAULT_MELTEMI_CLI = fileURLToPath(new URL('../../dist/proxy/cli.js', import.meta.url));

const DEFAULTS = {
  protocol: 'dubbo' as ProtocolName,
  connections: 64,
  inflight: 1,
  rate: 0,
  durationS: 5,
  warmupS: 2,
  rounds: 3,
  payload: 128,
  generators: 1,
  drainTimeoutS: 2,
  sampleIntervalS: 0.5,
  p99BoundUs: 1000,
  targets: ['direct', 'pipe', 'meltemi'] as readonly TargetName[],
};

/** Keys a scenario file may hold, spelled as the flags are. */
const SCENARIO_KEYS = new Set([
  'name', 'description', 'protocol', 'codec-module', 'mode', 'connections', 'inflight', 'rate', 'sweep-rates', 'p99-bound',
  'duration', 'warmup', 'rounds', 'payload', 'generators', 'drain-timeout', 'sample-interval', 'targets', 'external', 'pin',
  'route-swap',
]);

export const USAGE = `usage: meltemi-bench [scenario.yaml | scenario-name] [flags]
       npm run bench -- [scenario] [flags]

  -s, --scenario <file>     scenario file or name in scenarios/ (default dubbo-64x1)
  --protocol <name>         ${PROTOCOL_NAMES.join(', ')}
  --codec-module <file>     custom: a module exporting a CodecBenchAdapter (see README)
  --mode <mode>             closed | open | sweep | soak | idle (default: open when --rate > 0, else closed)
  --connections <n>         connections per target (idle: connections held open)
  --inflight <n>            closed loop: requests in flight per connection;
                            open loop: cap on outstanding requests per connection
  --rate <n>                open loop at n requests/s in total
  --sweep-rates <list>      sweep: rates to try, e.g. 2000,4000,8000 or 2000..20000/2000
  --p99-bound <t>           sweep: the knee is the highest rate with p99 at or under this (default 1ms)
  --duration <t>            measured window per target per round (5, 5s, 500ms, 10m)
  --warmup <t>              unmeasured window per target before the rounds (0 = none)
  --rounds <n>              rounds; each runs every target once, in rotating order
  --payload <bytes>         request frame size, protocol header included
  --generators <n>          load generator processes (connections are split among them)
  --drain-timeout <t>       wait this long for outstanding responses after a window
  --sample-interval <t>     proxy CPU/RSS and latency timeline period (default 500ms)
  --route-swap <t>          Meltemi targets take their routes from MetaRDS, a new table every <t>
                            (soak; default: never, inline routes)
  --targets <list>          comma list of ${TARGETS_HELP}
  --external <host:port>    the external target: your proxy, forwarding to the echo server
  --external-pid <pid>      its pid, so its CPU and RSS are measured too
  --echo-port <port>        fixed echo server port (to point an external proxy at)
  --pin-proxy <cpus>        taskset -c list for the proxy process
  --pin-echo <cpus>         taskset -c list for the echo server
  --pin-loadgen <cpus>      taskset -c list for the load generators
  --meltemi-cli <path>      proxy entry point (default ../dist/proxy/cli.js)
  --meltemi-filters <file>  YAML list of meta_protocol_filters entries to run before the router
  --json <file>             also write the raw results (per round, histograms, samples) as JSON
  --html <file>             also write a self-contained HTML report with charts
  --cpu-prof <dir>          run Meltemi under node --cpu-prof, profiles written to <dir> when it stops;
                            summarize with: node dist/profile-top.js <dir>/*.cpuprofile
  -h, --help`;

/** Returns the options, or null when help was asked for. Throws with a readable message on bad input. */
export function loadOptions(argv: readonly string[]): BenchOptions | null {
  const stringFlags = [
    'scenario', 'protocol', 'codec-module', 'mode', 'connections', 'inflight', 'rate', 'sweep-rates', 'p99-bound', 'duration',
    'warmup', 'rounds', 'payload', 'generators', 'drain-timeout', 'sample-interval', 'targets', 'external', 'external-pid',
    'echo-port', 'pin-proxy', 'pin-echo', 'pin-loadgen', 'meltemi-cli', 'meltemi-filters', 'json', 'html', 'cpu-prof',
    'route-swap',
  ] as const;
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...Object.fromEntries(stringFlags.map((f) => [f, { type: 'string' as const }])),
      scenario: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags = values as Partial<Record<(typeof stringFlags)[number], string>> & { help?: boolean };
  if (flags.help === true) return null;
  if (positionals.length > 1) throw new Error(`one scenario file at most, got: ${positionals.join(' ')}`);
  const scenarioFile = resolveScenario(flags.scenario ?? positionals[0]);
  const file = readScenario(scenarioFile);

  // Flags win over the file; both are parsed by the same functions so they mean the same thing.
  const pick = (key: string): unknown => flags[key as (typeof stringFlags)[number]] ?? file[key];
  if (file.pin !== undefined && (typeof file.pin !== 'object' || file.pin === null || Array.isArray(file.pin))) {
    throw new Error(`${scenarioFile}: pin is a mapping of proxy, echo, loadgen to taskset CPU lists`);
  }
  const filePin = (file.pin ?? {}) as Record<string, unknown>;
  const pinOf = (role: keyof PinOptions, flag: string | undefined): string | undefined =>
    optionalString(`pin.${role}`, flag ?? filePin[role]);

  const protocolRaw = String(pick('protocol') ?? DEFAULTS.protocol);
  if (!isProtocolName(protocolRaw)) throw new Error(`unknown protocol ${protocolRaw} (known: ${PROTOCOL_NAMES.join(', ')})`);
  const codecModule = optionalString('codec-module', pick('codec-module'));
  if (protocolRaw === 'custom' && codecModule === undefined) throw new Error('protocol custom needs --codec-module <file>');
  const rate = int('rate', pick('rate'), DEFAULTS.rate, 0);
  const mode = modeOf(pick('mode'), rate);
  if (mode === 'open' && rate === 0) throw new Error('mode open needs --rate > 0');
  const targetList = targets(pick('targets'));
  const external = externalOf(pick('external'), flags['external-pid']);
  if (targetList.includes('external') && external === undefined) throw new Error('target external needs --external host:port');

  const opts: BenchOptions = {
    scenarioFile,
    ...runNaming(optionalString('name', file.name), optionalString('description', file.description), shapeOverrides(flags, file), flags, {
      protocol: protocolRaw,
      mode,
      connections: int('connections', pick('connections'), DEFAULTS.connections, 1),
      inflight: int('inflight', pick('inflight'), DEFAULTS.inflight, 1),
      rate,
      payload: int('payload', pick('payload'), DEFAULTS.payload, 1),
    }),
    protocol: protocolRaw,
    codecModule,
    mode,
    connections: int('connections', pick('connections'), DEFAULTS.connections, 1),
    inflight: int('inflight', pick('inflight'), DEFAULTS.inflight, 1),
    rate,
    sweep: {
      rates: mode === 'sweep' ? rateList(pick('sweep-rates')) : [],
      p99BoundUs: seconds('p99-bound', pick('p99-bound'), DEFAULTS.p99BoundUs / 1e6, 0.000001) * 1e6,
    },
    durationS: seconds('duration', pick('duration'), DEFAULTS.durationS, 0.1),
    warmupS: seconds('warmup', pick('warmup'), DEFAULTS.warmupS, 0),
    rounds: int('rounds', pick('rounds'), DEFAULTS.rounds, 1),
    payload: int('payload', pick('payload'), DEFAULTS.payload, 1),
    generators: int('generators', pick('generators'), DEFAULTS.generators, 1),
    drainTimeoutS: seconds('drain-timeout', pick('drain-timeout'), DEFAULTS.drainTimeoutS, 0.1),
    sampleIntervalS: seconds('sample-interval', pick('sample-interval'), DEFAULTS.sampleIntervalS, 0.05),
    targets: targetList,
    external,
    echoPort: int('echo-port', flags['echo-port'], 0, 0),
    pin: {
      proxy: pinOf('proxy', flags['pin-proxy']),
      echo: pinOf('echo', flags['pin-echo']),
      loadgen: pinOf('loadgen', flags['pin-loadgen']),
    },
    json: flags.json,
    html: flags.html,
    meltemiCli: flags['meltemi-cli'] ?? DEFAULT_MELTEMI_CLI,
    meltemiFilters: flags['meltemi-filters'],
    profileDir: flags['cpu-prof'],
    routeSwapS: seconds('route-swap', pick('route-swap'), 0, 0),
  };
  if (opts.generators > opts.connections) throw new Error(`generators (${opts.generators}) > connections (${opts.connections})`);
  if (opts.echoPort > 65535) throw new Error(`echo-port must be a port number, got ${opts.echoPort}`);
  return opts;
}

function resolveScenario(arg: string | undefined): string {
  if (arg === undefined) return DEFAULT_SCENARIO;
  if (existsSync(arg)) return arg;
  // Let `dubbo-64x8` or `dubbo-64x8.yaml` name a file in scenarios/.
  const inDir = `${BENCH_DIR}scenarios/${arg.endsWith('.yaml') ? arg : `${arg}.yaml`}`;
  if (existsSync(inDir)) return inDir;
  throw new Error(`scenario not found: ${arg}`);
}

function readScenario(path: string): Record<string, unknown> {
  const doc: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${path}: a scenario is a mapping`);
  const record = doc as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !SCENARIO_KEYS.has(k));
  if (unknown.length > 0) throw new Error(`${path}: unknown keys ${unknown.join(', ')} (known: ${[...SCENARIO_KEYS].join(', ')})`);
  return record;
}

function modeOf(raw: unknown, rate: number): Mode {
  if (raw === undefined) return rate > 0 ? 'open' : 'closed';
  const s = String(raw);
  if (!(MODES as readonly string[]).includes(s)) throw new Error(`unknown mode ${s} (known: ${MODES.join(', ')})`);
  return s as Mode;
}

function int(name: string, raw: unknown, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${String(raw)}`);
  return n;
}

/** Accepts a number of seconds, or a string with a unit: "500ms", "3s", "1m". */
function seconds(name: string, raw: unknown, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m)?\s*$/.exec(String(raw));
  if (m === null) throw new Error(`${name} must be a duration like 3, 3s or 500ms, got ${String(raw)}`);
  const scale = m[2] === 'us' ? 0.000001 : m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1;
  const s = Number(m[1]) * scale;
  if (s < min) throw new Error(`${name} must be at least ${min} s, got ${String(raw)}`);
  return s;
}

function optionalString(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error(`${name} must be a string`);
  return String(raw);
}

/** `2000,4000,8000`, a YAML list, or a range `from..to/step`. */
function rateList(raw: unknown): number[] {
  if (raw === undefined) throw new Error('mode sweep needs sweep-rates (e.g. 2000..20000/2000)');
  let rates: number[];
  const range = typeof raw === 'string' ? /^\s*(\d+)\s*\.\.\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw) : null;
  if (range !== null) {
    const [from, to, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (step <= 0 || to < from || (to - from) / step > 100) throw new Error(`sweep-rates range ${String(raw)}: need step > 0 and at most 100 steps`);
    rates = [];
    for (let r = from; r <= to; r += step) rates.push(r);
  } else {
    rates = (Array.isArray(raw) ? raw : String(raw).split(',')).map((x) => int('sweep-rates', String(x).trim(), 0, 1));
  }
  if (rates.length === 0) throw new Error('sweep-rates is empty');
  return [...new Set(rates)].sort((a, b) => a - b);
}

function externalOf(raw: unknown, pidFlag: string | undefined): ExternalTarget | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*([^:\s]+):(\d+)\s*$/.exec(String(raw));
  if (m === null) throw new Error(`external must be host:port, got ${String(raw)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`external port out of range: ${m[2]}`);
  const pid = pidFlag === undefined ? undefined : int('external-pid', pidFlag, 0, 1);
  return { host: m[1]!, port, pid };
}

function targets(raw: unknown): readonly TargetName[] {
  if (raw === undefined) return DEFAULTS.targets;
  const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  const names = list.map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((s) => !isTargetName(s));
  if (bad.length > 0) throw new Error(`unknown targets ${bad.join(', ')} (known: ${TARGETS_HELP})`);
  if (names.length === 0) throw new Error('targets is empty');
  return [...new Set(names)];
}
