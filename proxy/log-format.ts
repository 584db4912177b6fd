/**
 * Plain-text log lines for people, from Envoy's `--log-format` patterns (spdlog flags).
 * The logger (logger.ts) writes pino JSON records; in text mode each record is turned into
 * one line by a formatter compiled once from the pattern. Logging is off the request path,
 * so parsing each record back from JSON costs nothing that matters.
 */

/** Envoy's default `--log-format`. */
export const ENVOY_DEFAULT_LOG_FORMAT = '[%Y-%m-%d %T.%e][%t][%l][%n] %v';

/** pino's numeric levels in Envoy's words. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'critical' };

/** Fields of a pino record that the pattern shows through flags, not as `key=value`. */
const BUILT_IN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

interface LogRecord {
  readonly level?: number;
  readonly time?: number;
  readonly pid?: number;
  readonly name?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

type Part = (r: LogRecord, t: Date) => string;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null && 'message' in v && typeof (v as { message: unknown }).message === 'string') {
    return JSON.stringify((v as { message: string }).message); // a serialised Error: its message, not its stack
  }
  return JSON.stringify(v) ?? String(v);
}

/** The message, then the record's own fields as ` key=value` (e.g. `listener=in port=20880`). */
function message(r: LogRecord): string {
  let out = r.msg ?? '';
  for (const [k, v] of Object.entries(r)) if (!BUILT_IN.has(k)) out += ` ${k}=${fieldText(v)}`;
  return out;
}

function levelName(r: LogRecord): string {
  return LEVEL_NAMES[r.level ?? 30] ?? String(r.level);
}

function utcOffset(t: Date): string {
  const off = -t.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** The spdlog flags Meltemi honours (times are local, as spdlog's). */
const FLAGS: Readonly<Record<string, Part>> = {
  v: (r) => message(r),
  _: (r) => message(r).replace(/\n/g, '\\n'),
  j: (r) => JSON.stringify(message(r)).slice(1, -1),
  l: (r) => levelName(r),
  L: (r) => levelName(r).charAt(0).toUpperCase(),
  n: (r) => r.name ?? 'meltemi',
  // A Node process runs its JavaScript on its main thread, whose Linux thread id is the pid.
  t: (r) => String(r.pid ?? process.pid),
  P: (r) => String(r.pid ?? process.pid),
  Y: (_, t) => String(t.getFullYear()),
  m: (_, t) => pad(t.getMonth() + 1),
  d: (_, t) => pad(t.getDate()),
  H: (_, t) => pad(t.getHours()),
  M: (_, t) => pad(t.getMinutes()),
  S: (_, t) => pad(t.getSeconds()),
  e: (_, t) => pad(t.getMilliseconds(), 3),
  f: (_, t) => pad(t.getMilliseconds() * 1000, 6),
  F: (_, t) => pad(t.getMilliseconds() * 1_000_000, 9),
  T: (_, t) => `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`,
  D: (_, t) => `${pad(t.getMonth() + 1)}/${pad(t.getDate())}/${pad(t.getFullYear() % 100)}`,
  z: (_, t) => utcOffset(t),
  E: (_, t) => String(Math.floor(t.getTime() / 1000)),
  '%': () => '%',
};

/** The flags `compileLogPattern` accepts, for error messages and docs. */
export const LOG_FORMAT_FLAGS = Object.keys(FLAGS).map((f) => `%${f}`);

export { LogFormatError };

/** Compiles an Envoy/spdlog pattern into a record → line function; throws LogFormatError. */
export function compileLogPattern(pattern: string): (record: LogRecord) => string {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const flag = pattern[++i];
    const part = flag === undefined ? undefined : FLAGS[flag];
    if (part === undefined) {
      throw new LogFormatError(`--log-format: ${flag === undefined ? 'a trailing %' : `%${flag}`} is not supported; Meltemi honours ${LOG_FORMAT_FLAGS.join(' ')}`);
    }
    if (literal !== '') {
      const text = literal;
      parts.push(() => text);
      literal = '';
    }
    parts.push(part);
  }
  if (literal !== '') parts.push(() => literal);
  return (record) => {
    const t = new Date(record.time ?? Date.now());
    let out = '';
    for (const p of parts) out += p(record, t);
    return out;
  };
}

/** Turns one pino JSON line into one text line; a line that is not JSON passes unchanged. */
export function textLineOf(format: (record: LogRecord) => string, jsonLine: string): string {
  let record: LogRecord;
  try {
    record = JSON.parse(jsonLine) as LogRecord;
  } catch {
    return jsonLine;
  }
  return `${format(record)}\n`;
}import { LogFormatError } from '../config/errors.js';

