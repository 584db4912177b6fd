import { pino } from 'pino';

/** Where access-log lines go. */
export interface LogSink {
  write(line: string): void;
  /** Writes what is buffered; resolves once it is handed to the OS. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

type Destination = ReturnType<typeof pino.destination>;

/**
 * Opens a sink on pino's asynchronous destination (sonic-boom): lines are appended to a
 * buffer, and a write in flight carries everything that piled up meanwhile, so a busy
 * proxy makes one write per batch and the request path never waits on the disk.
 * `/dev/stdout` and `/dev/stderr` go to the process's own descriptors.
 */
export function openLogSink(path: string): LogSink {
  const dest: Destination =
    path === '/dev/stdout' ? pino.destination({ fd: 1, sync: false }) : path === '/dev/stderr' ? pino.destination({ fd: 2, sync: false }) : pino.destination({ dest: path, sync: false, mkdir: true, append: true });
  const isStream = path === '/dev/stdout' || path === '/dev/stderr';
  let ready = isStream;
  const early: string[] = [];
  if (!ready) {
    dest.once('ready', () => {
      ready = true;
      for (const l of early.splice(0)) dest.write(l);
    });
  }
  const flushed = (): Promise<void> =>
    new Promise((resolve) => {
      if (!ready) {
        dest.once('ready', () => setImmediate(() => void flushed().then(resolve)));
        return;
      }
      dest.flush((err) => {
        // A flush with nothing to write reports an error in some versions: nothing was lost.
        void err;
        resolve();
      });
    });
  return {
    write(line) {
      if (ready) dest.write(line);
      else early.push(line);
    },
    flush: flushed,
    async close() {
      await flushed();
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
