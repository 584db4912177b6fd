// Bench options: defaults, overridden by a scenario file, overridden by command-line flags.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ECHO_REQUEST, minFrameSize } from './dubbo/frame.ts';
import { TARGET_NAMES, type TargetName } from './runner/targets.ts';

export interface PinOptions {
  /** taskset CPU lists per role; undefined leaves the scheduler free. */
  readonly proxy: string | undefined;
  readonly echo: string | undefined;
  readonly loadgen: string | undefined;
}

export interface BenchOptions {
  readonly scenarioFile: string;
  readonly name: string;
  readonly connections: number;
  /** Closed loop: requests in flight per connection. Open loop: cap on outstanding per connection. */
  readonly inflight: number;
  /** Open loop rate in requests per second over all connections; 0 means closed loop. */
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  /** Total request frame size in bytes, 16-byte header included. */
  readonly payload: number;
  readonly generators: number;
  readonly drainTimeoutS: number;
  readonly targets: readonly TargetName[];
  readonly pin: PinOptions;
  readonly json: string | undefined;
  readonly meltemiCli: string;
}

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../scenarios/dubbo-64x1.yaml', import.meta.url));
const DEFAULT_MELTEMI_CLI = fileURLToPath(new URL('../../dist/proxy/cli.js', import.meta.url));

const DEFAULTS: Omit<BenchOptions, 'scenarioFile' | 'json'> = {
  name: 'unnamed',
  connections: 64,
  inflight: 1,
  rate: 0,
  durationS: 5,
  warmupS: 2,
  rounds: 3,
  payload: 128,
  generators: 1,
  drainTimeoutS: 2,
  targets: ['direct', 'pipe', 'meltemi'],
  pin: { proxy: undefined, echo: undefined, loadgen: undefined },
  meltemiCli: DEFAULT_MELTEMI_CLI,
};

/** Keys a scenario file may hold, spelled as the flags are. */
const SCENARIO_KEYS = new Set([
  'name', 'description', 'connections', 'inflight', 'rate', 'duration', 'warmup', 'rounds',
  'payload', 'generators', 'drain-timeout', 'targets', 'pin',
]);

export const USAGE = `usage: npm run bench -- [scenario.yaml] [flags]

  -s, --scenario <file>     scenario file (default scenarios/dubbo-64x1.yaml)
  --connections <n>         connections per target
  --inflight <n>            closed loop: requests in flight per connection;
                            open loop: cap on outstanding requests per connection
  --rate <n>                open loop at n requests/s in total (0 = closed loop)
  --duration <t>            measured window per target per round (5, 5s, 500ms)
  --warmup <t>              unmeasured window per target before the rounds (0 = none)
  --rounds <n>              rounds; each runs every target once, in rotating order
  --payload <bytes>         request frame size, 16-byte header included (min ${minFrameSize(ECHO_REQUEST)})
  --generators <n>          load generator processes (connections are split among them)
  --drain-timeout <t>       wait this long for outstanding responses after a window
  --targets <list>          comma list of ${TARGET_NAMES.join(', ')}
  --pin-proxy <cpus>        taskset -c list for the proxy process
  --pin-echo <cpus>         taskset -c list for the echo server
  --pin-loadgen <cpus>      taskset -c list for the load generators
  --meltemi-cli <path>      proxy entry point (default ../dist/proxy/cli.js)
  --json <file>             also write the raw results (per round, histograms) as JSON
  -h, --help`;

/** Returns the options, or null when help was asked for. Throws with a readable message on bad input. */
export function loadOptions(argv: readonly string[]): BenchOptions | null {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      scenario: { type: 'string', short: 's' },
      connections: { type: 'string' },
      inflight: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      payload: { type: 'string' },
      generators: { type: 'string' },
      'drain-timeout': { type: 'string' },
      targets: { type: 'string' },
      'pin-proxy': { type: 'string' },
      'pin-echo': { type: 'string' },
      'pin-loadgen': { type: 'string' },
      'meltemi-cli': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (positionals.length > 1) throw new Error(`one scenario file at most, got: ${positionals.join(' ')}`);
  const scenarioFile = resolveScenario(values.scenario ?? positionals[0]);
  const file = readScenario(scenarioFile);

  // Flags win over the file; both are parsed by the same functions so they mean the same thing.
  const pick = (key: string, flag: string | undefined): unknown => flag ?? file[key];
  if (file.pin !== undefined && (typeof file.pin !== 'object' || file.pin === null || Array.isArray(file.pin))) {
    throw new Error(`${scenarioFile}: pin is a mapping of proxy, echo, loadgen to taskset CPU lists`);
  }
  const filePin = (file.pin ?? {}) as Record<string, unknown>;
  const pinOf = (role: keyof PinOptions, flag: string | undefined): string | undefined =>
    optionalString(`pin.${role}`, flag ?? filePin[role]);

  const opts: BenchOptions = {
    scenarioFile,
    name: optionalString('name', file.name) ?? DEFAULTS.name,
    connections: int('connections', pick('connections', values.connections), DEFAULTS.connections, 1),
    inflight: int('inflight', pick('inflight', values.inflight), DEFAULTS.inflight, 1),
    rate: int('rate', pick('rate', values.rate), DEFAULTS.rate, 0),
    durationS: seconds('duration', pick('duration', values.duration), DEFAULTS.durationS, 0.1),
    warmupS: seconds('warmup', pick('warmup', values.warmup), DEFAULTS.warmupS, 0),
    rounds: int('rounds', pick('rounds', values.rounds), DEFAULTS.rounds, 1),
    payload: int('payload', pick('payload', values.payload), DEFAULTS.payload, minFrameSize(ECHO_REQUEST)),
    generators: int('generators', pick('generators', values.generators), DEFAULTS.generators, 1),
    drainTimeoutS: seconds('drain-timeout', pick('drain-timeout', values['drain-timeout']), DEFAULTS.drainTimeoutS, 0.1),
    targets: targets(pick('targets', values.targets)),
    pin: {
      proxy: pinOf('proxy', values['pin-proxy']),
      echo: pinOf('echo', values['pin-echo']),
      loadgen: pinOf('loadgen', values['pin-loadgen']),
    },
    json: values.json,
    meltemiCli: values['meltemi-cli'] ?? DEFAULTS.meltemiCli,
  };
  if (opts.generators > opts.connections) throw new Error(`generators (${opts.generators}) > connections (${opts.connections})`);
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

function int(name: string, raw: unknown, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${String(raw)}`);
  return n;
}

/** Accepts a number of seconds, or a string with a unit: "500ms", "3s", "1m". */
function seconds(name: string, raw: unknown, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(String(raw));
  if (m === null) throw new Error(`${name} must be a duration like 3, 3s or 500ms, got ${String(raw)}`);
  const scale = m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1;
  const s = Number(m[1]) * scale;
  if (s < min) throw new Error(`${name} must be at least ${min} s, got ${String(raw)}`);
  return s;
}

function optionalString(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error(`${name} must be a string`);
  return String(raw);
}

function targets(raw: unknown): readonly TargetName[] {
  if (raw === undefined) return DEFAULTS.targets;
  const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  const names = list.map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((s) => !(TARGET_NAMES as readonly string[]).includes(s));
  if (bad.length > 0) throw new Error(`unknown targets ${bad.join(', ')} (known: ${TARGET_NAMES.join(', ')})`);
  if (names.length === 0) throw new Error('targets is empty');
  return [...new Set(names)] as TargetName[];
}
