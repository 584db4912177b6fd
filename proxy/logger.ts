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
