/** The quickstart's ports, and a check that they are free before anything starts. */
import net from 'node:net';

/** What listens where: the committed bootstrap uses 20880-20882 and admin 9901; --port-base moves them all. */
export interface QuickstartPorts {
  readonly base: number;
  readonly meltemi: number;
  readonly v1: number;
  readonly v2: number;
  readonly admin: number;
}

export const DEFAULT_PORT_BASE = 20880;

export function quickstartPorts(base: number): QuickstartPorts {
  return { base, meltemi: base, v1: base + 1, v2: base + 2, admin: base === DEFAULT_PORT_BASE ? 9901 : base + 1021 };
}

/** Parses --port-base: a whole number that leaves room for all four ports. */
export function parsePortBase(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT_BASE;
  const base = Number(text);
  if (!Number.isInteger(base) || base < 1024 || base + 1021 > 65535) {
    throw new Error(`--port-base must be a whole number from 1024 to ${65535 - 1021}, got ${JSON.stringify(text)}`);
  }
  return base;
}

/** A port another program holds: the message is the one line the user sees. */
export class PortBusyError extends Error {}

/**
 * Tries each port on 127.0.0.1 and gives it back at once. A busy port is reported in one line
 * naming it and --port-base, instead of the stack trace the RPC library or Meltemi would print
 * half-way through the start.
 */
export async function checkPortsFree(ports: QuickstartPorts): Promise<void> {
  const named: [string, number][] = [
    ['Meltemi listener', ports.meltemi],
    ['provider v1', ports.v1],
    ['provider v2', ports.v2],
    ['Meltemi admin', ports.admin],
  ];
  for (const [what, port] of named) {
    const err = await tryListen(port);
    if (err === null) continue;
    const reason = err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be opened (${err.code ?? err.message})`;
    const other = ports.base === DEFAULT_PORT_BASE ? 30880 : DEFAULT_PORT_BASE;
    throw new PortBusyError(
      `port ${port} (${what}) on 127.0.0.1 ${reason}; the quickstart uses ports ${ports.meltemi}-${ports.v2} and ${ports.admin}. ` +
        `Stop the program holding it, or move all four with --port-base, e.g. npm run quickstart -- --port-base ${other}`,
    );
  }
}

function tryListen(port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(null)));
  });
}
