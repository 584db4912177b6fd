import { openSync } from 'node:fs';
import { pino } from 'pino';
import { logger } from '../../logger.js';

/** Where access-log lines go. */
export interface LogSink {
  write(line: string): void;
  /** Writes what is buffered; resolves once it is handed to the OS. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a sink on pino's asynchronous destination (sonic-boom): lines are appended to a
 * buffer, and a write in flight carries everything that piled up meanwhile, so a busy
 * proxy makes one write per batch and the request path never waits on the disk.
 * `/dev/stdout` and `/dev/stderr` go to the process's own descriptors. The file is opened
 * here, synchronously, so a path that cannot be written stops the start (as in Envoy)
 * instead of failing later.
 */
export function openLogSink(path: string): LogSink {
  const isStream = path === '/dev/stdout' || path === '/dev/stderr';
  const fd = path === '/dev/stdout' ? 1 : path === '/dev/stderr' ? 2 : openSync(path, 'a');
  const dest = pino.destination({ fd, sync: false });
  // A log that can no longer be written (disk full) must not take the proxy down.
  dest.on('error', (err: Error) => logger.error({ path, err: err.message }, 'access log write failed'));
  const flush = (): Promise<void> =>
    new Promise((resolve) => {
      // sonic-boom's flush() returns at once when it has no minimum length, even with a
      // write still in flight: wait for that write's drain first (its `_writing` flag has no
      // public getter).
      // An error here means there was nothing to write or the disk refused: nothing to wait for.
      const done = (): void => dest.flush(() => resolve());
      if ((dest as unknown as { _writing?: boolean })._writing !== true) return done();
      // A failed write emits error, not drain: either one ends the wait.
      const settle = (): void => {
        dest.off('drain', settle);
        dest.off('error', settle);
        done();
      };
      dest.once('drain', settle);
      dest.once('error', settle);
    });
  return {
    write(line) {
      dest.write(line);
    },
    flush,
    async close() {
      await flush();
      // The process's own stdout/stderr stay open.
      if (!isStream) {
        await new Promise<void>((resolve) => {
          dest.once('close', () => resolve());
          dest.end();
        });
      }
    },
  };
}
