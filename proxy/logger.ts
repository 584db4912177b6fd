import { pino } from 'pino';
import type { Logger } from 'pino';
import { ENVOY_DEFAULT_LOG_FORMAT, LogFormatError, compileLogPattern, textLineOf } from './log-format.js';

/** Envoy's level names (as -l, MELTEMI_LOG_LEVEL and /logging take them) mapped to pino's. */
const ENVOY_LEVELS: Readonly<Record<string, string>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  err: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  off: 'silent',
};

/** The names a level may be given, for error messages. */
export const LOG_LEVEL_NAMES = 'trace debug info warning (or warn) error critical off';

/** The pino level of an Envoy level name (any case), or undefined when it is none. */
export function pinoLevelOf(name: string): string | undefined {
  return ENVOY_LEVELS[name.toLowerCase()];
}

/**
 * Where log lines go: stderr, so stdout stays free for access logs and for tools that print
 * summaries. `write` is swapped by setLogFormat (JSON as pino writes it, or text lines).
 */
const stderr = pino.destination({ fd: 2, sync: false });
let writeLine: (line: string) => void = (line) => stderr.write(line);
const sink = {
  write: (line: string): void => writeLine(line),
  flush: (cb?: (err?: Error) => void): void => stderr.flush(cb),
};

const envLevel = process.env['MELTEMI_LOG_LEVEL'];
const envPinoLevel = envLevel === undefined ? 'info' : pinoLevelOf(envLevel);

/** The process logger. The level can be changed at runtime (admin /logging). */
export const logger: Logger = pino({ name: 'meltemi', level: envPinoLevel ?? 'info', base: { pid: process.pid } }, sink);

export type { Logger };

const envFormat = process.env['MELTEMI_LOG_FORMAT'];
if (envFormat !== undefined && envFormat !== '') {
  const problem = setLogFormat(envFormat);
  if (problem !== undefined) logger.warn(`MELTEMI_LOG_FORMAT: ${problem}; logging JSON`);
}
if (envPinoLevel === undefined) logger.warn(`MELTEMI_LOG_LEVEL: unknown level '${envLevel}' (one of ${LOG_LEVEL_NAMES}); logging at info`);

/**
 * Chooses the log line format: `json` (pino's JSON lines, the default, for machines), `text`
 * (Envoy's default pattern, for people) or an Envoy `--log-format` pattern such as
 * `[%T.%e][%l] %v`. Returns the problem with `format`, or undefined when it is set.
 */
export function setLogFormat(format: string): string | undefined {
  if (format === 'json') {
    writeLine = (line) => stderr.write(line);
    return undefined;
  }
  try {
    const fmt = compileLogPattern(format === 'text' ? ENVOY_DEFAULT_LOG_FORMAT : format);
    writeLine = (line) => stderr.write(textLineOf(fmt, line));
    return undefined;
  } catch (err) {
    if (err instanceof LogFormatError) return err.message;
    throw err;
  }
}

/**
 * Sets the process log level at runtime (admin `/logging?level=`, `-l`), with Envoy's names
 * (`trace` … `critical`, `off`; `warn` too). Returns the pino level set, or undefined for an
 * unknown name.
 */
export function setLogLevel(level: string): string | undefined {
  const pinoLevel = pinoLevelOf(level);
  if (pinoLevel === undefined) return undefined;
  logger.level = pinoLevel;
  return pinoLevel;
}

/**
 * setLogLevel plus one info record `log level changed` (`log_level`, `previous`), written
 * under the old level or the new one, whichever lets info records through.
 */
export function changeLogLevel(level: string, source: string): string | undefined {
  const previous = logLevel();
  const infoBefore = logger.isLevelEnabled('info');
  if (pinoLevelOf(level) === undefined) return undefined;
  const record = (): void => logger.info({ log_level: levelNameOf(pinoLevelOf(level)!), previous }, `${source}: log level changed`);
  if (infoBefore) record();
  const set = setLogLevel(level);
  if (!infoBefore) record();
  return set;
}

function levelNameOf(pinoLevel: string): string {
  return pinoLevel === 'warn' ? 'warning' : pinoLevel === 'fatal' ? 'critical' : pinoLevel === 'silent' ? 'off' : pinoLevel;
}

/** The current level, in Envoy's words. */
export function logLevel(): string {
  return levelNameOf(logger.level);
}
