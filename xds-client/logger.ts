/**
 * The client's logger, injected by its owner (Meltemi passes its pino logger). The shape is
 * pino's: an object of fields first, then the message.
 */
export interface XdsLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const nothing = (): void => undefined;

/** For owners that want no log lines (tests, tools). */
export const SILENT_LOGGER: XdsLogger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
