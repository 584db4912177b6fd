/**
 * The original-destination addon's edges that need no iptables: a missing addon is a clear
 * reason, a connection that was not redirected is an error value (ENOENT), never a throw or
 * a guess, and TPROXY mode reads the local address. The REDIRECT path itself runs in the mesh
 * suite (test/mesh/*.mesh.test.ts), which builds real iptables rules.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { loadAddon, originalDestination, originalDstUnavailable, setTransparent } from '../../proxy/net/original-dst.js';

/** A server on 127.0.0.1 and one connection to it; returns the accepted socket. */
async function acceptedPair(): Promise<{ server: net.Server; accepted: net.Socket; client: net.Socket }> {
  const server = net.createServer();
  const got = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const accepted = await got;
  return { server, accepted, client };
}

test('an addon that is not there gives the reason and how to build it', () => {
  const r = loadAddon('/nonexistent/original_dst.node');
  assert.ok('reason' in r);
  if (process.platform === 'linux') assert.match(r.reason, /not built.*npm run build:native/);
  else assert.match(r.reason, /only on Linux/);
});

test('a connection that was not redirected has no original destination: an error value, not a guess', async () => {
  const { server, accepted, client } = await acceptedPair();
  try {
    const d = originalDestination(accepted, false);
    assert.ok(d instanceof Error, `expected an error, got ${JSON.stringify(d)}`);
    const missing = originalDstUnavailable();
    if (missing === undefined) assert.equal((d as NodeJS.ErrnoException).code, 'ENOENT');
    else assert.equal(d.message, missing);
  } finally {
    client.destroy();
    accepted.destroy();
    server.close();
  }
});

test('TPROXY mode: the original destination is the local address', async () => {
  const { server, accepted, client } = await acceptedPair();
  try {
    assert.deepEqual(originalDestination(accepted, true), { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  } finally {
    client.destroy();
    accepted.destroy();
    server.close();
  }
});

test('a closed connection gives an error value', async () => {
  const { server, accepted, client } = await acceptedPair();
  accepted.destroy();
  client.destroy();
  server.close();
  await new Promise((r) => setImmediate(r));
  assert.ok(originalDestination(accepted, false) instanceof Error);
});

test('IP_TRANSPARENT on a listening socket: set as root, EPERM otherwise, the reason without the addon', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const missing = originalDstUnavailable();
    if (missing !== undefined) assert.throws(() => setTransparent(server), { message: missing });
    else if (process.getuid?.() === 0) assert.doesNotThrow(() => setTransparent(server));
    else assert.throws(() => setTransparent(server), { code: 'EPERM' });
  } finally {
    server.close();
  }
});

test('IP_TRANSPARENT before listen() is refused with a reason', () => {
  const server = net.createServer();
  assert.throws(() => setTransparent(server), /not bound yet|not built|only on Linux/);
});
