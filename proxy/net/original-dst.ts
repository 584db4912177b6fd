import { createRequire } from 'node:module';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Where an intercepted connection was going (spec/istio-sidecar.md §3).
 *
 * - REDIRECT (Istio's default): iptables rewrote the destination to 15001/15006; the kernel
 *   keeps the original in conntrack, readable only with getsockopt(SO_ORIGINAL_DST), which
 *   Node does not expose. The optional addon in native/original-dst reads it.
 * - TPROXY: the listening socket carries IP_TRANSPARENT (set by the same addon; Node has no
 *   option for it) and the accepted socket's local address *is* the original destination.
 *
 * Where the addon is missing (another OS, no compiler at install) the listeners that need
 * it are refused at config time with `originalDstUnavailable()`: never a guess.
 */
export interface OriginalDestination {
  readonly address: string;
  readonly port: number;
}

interface Addon {
  originalDst(fd: number, family: 4 | 6): { address: string; port: number; family: number };
  setTransparent(fd: number, family: 4 | 6): void;
}

/** The addon as node-gyp builds it, relative to this file in dist/proxy/net/. */
export const ADDON_PATH = fileURLToPath(new URL('../../../native/original-dst/build/Release/original_dst.node', import.meta.url));

type Loaded = { readonly addon: Addon } | { readonly reason: string };

/** Loads the addon at `path`: the addon, or why it cannot be used. */
export function loadAddon(path: string): Loaded {
  if (process.platform !== 'linux') return { reason: `the original destination of a redirected connection (SO_ORIGINAL_DST) exists only on Linux, this is ${process.platform}` };
  try {
    const mod = createRequire(import.meta.url)(path) as Partial<Addon>;
    if (typeof mod.originalDst !== 'function' || typeof mod.setTransparent !== 'function') return { reason: `${path} is not the original-destination addon` };
    return { addon: mod as Addon };
  } catch (err) {
    return { reason: `the original-destination addon is not built (${path}: ${(err as Error).message.split('\n')[0]}); build it with \`npm run build:native\` (needs a C compiler and Node's headers)` };
  }
}

let loaded: Loaded | undefined;
function addon(): Loaded {
  loaded ??= loadAddon(ADDON_PATH);
  return loaded;
}

/** Why the original destination cannot be recovered here, or undefined when it can. */
export function originalDstUnavailable(): string | undefined {
  const a = addon();
  return 'reason' in a ? a.reason : undefined;
}

/** The address family to ask the kernel with: an IPv4-mapped address on a dual-stack socket is IPv4. */
function familyOf(address: string | undefined): 4 | 6 {
  if (address === undefined) return 4;
  return address.includes(':') && !/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? 6 : 4;
}

function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m === null ? address : m[1]!;
}

function fdOf(handleOwner: net.Socket | net.Server): number | undefined {
  const fd = (handleOwner as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * The original destination of an accepted connection, as a value: an Error when there is
 * none (not redirected: ENOENT) or it cannot be read. `transparent`: the listener is a TPROXY
 * one, where the local address is the answer. Never throws.
 */
export function originalDestination(socket: net.Socket, transparent: boolean): OriginalDestination | Error {
  const local = socket.localAddress;
  if (transparent) {
    if (local === undefined || socket.localPort === undefined) return new Error('the connection has no local address (closed?)');
    return { address: unmapped(local), port: socket.localPort };
  }
  const a = addon();
  if ('reason' in a) return new Error(a.reason);
  const fd = fdOf(socket);
  if (fd === undefined) return new Error('the connection has no file descriptor (closed, or not a TCP socket)');
  try {
    const d = a.addon.originalDst(fd, familyOf(local));
    return { address: d.address, port: d.port };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Marks a listening socket IP_TRANSPARENT so that iptables TPROXY can deliver connections
 * for any address to it (needs CAP_NET_ADMIN). Throws with the reason.
 */
export function setTransparent(server: net.Server): void {
  const a = addon();
  if ('reason' in a) throw new Error(a.reason);
  const fd = fdOf(server);
  // A node:cluster worker shares the primary's listening socket and holds no descriptor of it.
  if (fd === undefined) throw new Error('the listening socket is not in this process (a worker process shares the primary\'s; run transparent listeners with --concurrency 1) or is not bound yet');
  const bound = server.address();
  const family = typeof bound === 'object' && bound !== null ? familyOf(bound.address) : 4;
  a.addon.setTransparent(fd, family);
}
