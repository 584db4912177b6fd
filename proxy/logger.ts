import { pino } from 'pino';
import type { Logger } from 'pino';

/**
 * The process logger: pino JSON lines on stderr, so stdout stays free for access logs and
 * for tools that print summaries. The level can be changed at runtime (admin /logging).
 */
export const logger: Logger = pino(
  { name: 'meltemi', level: process.env['MELTEMI_LOG_LEVEL'] ?? 'info', base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: false }),
);

export type { Logger };

/** Envoy's level names (as /logging takes them) mapped to pino's. */
const ENVOY_LEVELS: Readonly<Record<string, string>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  off: 'silent',
};

/**
 * Sets the process log level at runtime (admin `/logging?level=`), with Envoy's names
 * (`trace` … `critical`, `off`). Returns the pino level set, or undefined for an unknown name.
 */
export function setLogLevel(level: string): string | undefined {
  const pinoLevel = ENVOY_LEVELS[level.toLowerCase()];
  if (pinoLevel === undefined) return undefined;
  logger.level = pinoLevel;
  return pinoLevel;
}

/** The current level, in Envoy's words. */
export function logLevel(): string {
  const l = logger.level;
  return l === 'warn' ? 'warning' : l === 'fatal' ? 'critical' : l === 'silent' ? 'off' : l;
}
