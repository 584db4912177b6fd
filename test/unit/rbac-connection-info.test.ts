/** What RBAC reads of a downstream socket: addresses, and the peer from a TLS accept path's handshake facts. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectionInfoOf, PEER_IDENTITY } from '../../proxy/downstream/connection-info.js';
import { peer } from '../helpers/rbac.js';

describe('connectionInfoOf', () => {
  let server: net.Server;
  let accepted: net.Socket[];
  let client: net.Socket;

  before(async () => {
    accepted = [];
    server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
  });
  after(async () => {
    client.destroy();
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('a plaintext socket: its addresses, no peer, no SNI', () => {
    const info = connectionInfoOf(accepted[0]!);
    assert.equal(info.remoteAddress, '127.0.0.1');
    assert.equal(info.directRemoteAddress, '127.0.0.1');
    assert.equal(info.remotePort, client.localPort);
    assert.equal(info.localPort, (server.address() as net.AddressInfo).port);
    assert.equal(info.peer, undefined);
    assert.equal(info.requestedServerName, '');
  });

  test("a TLS accept path's handshake facts give the peer and the SNI", () => {
    const info = connectionInfoOf(accepted[0]!, { tls: true, peerPrincipal: 'spiffe://td/ns/a/sa/b', peerUriSans: ['spiffe://td/ns/a/sa/b'], peerDnsSans: ['b.a.svc'], sni: 'outbound_.80_._.b.a.svc.cluster.local' });
    assert.deepEqual(info.peer, { principal: 'spiffe://td/ns/a/sa/b', uriSans: ['spiffe://td/ns/a/sa/b'], dnsSans: ['b.a.svc'], subject: '' });
    assert.equal(info.requestedServerName, 'outbound_.80_._.b.a.svc.cluster.local');
    const subjectOnly = connectionInfoOf(accepted[0]!, { tls: true, peerPrincipal: 'CN=legacy', peerUriSans: [], peerDnsSans: [], sni: undefined });
    assert.equal(subjectOnly.peer?.subject, 'CN=legacy');
    assert.equal(connectionInfoOf(accepted[0]!, { tls: false, peerPrincipal: undefined, peerUriSans: [], peerDnsSans: [], sni: undefined }).peer, undefined);
  });

  test('an identity put on the socket wins', () => {
    const s = accepted[0]! as net.Socket & { [PEER_IDENTITY]?: unknown };
    s[PEER_IDENTITY] = peer(['spiffe://td/ns/x/sa/y']);
    try {
      assert.equal(connectionInfoOf(accepted[0]!).peer?.principal, 'spiffe://td/ns/x/sa/y');
    } finally {
      delete s[PEER_IDENTITY];
    }
  });
});
