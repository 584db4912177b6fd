/**
 * The principal RBAC matches on a TLS connection: the URI SAN of a peer certificate that
 * verified against the trusted CA, made here with openssl. A self-signed certificate that
 * claims the same SPIFFE id names nobody. Node's TLS client and server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { ConnectionInfo } from '../../filters/api/index.js';
import { connectionInfoOf } from '../../proxy/downstream/connection-info.js';
import { mustCompile, onePolicy } from '../helpers/rbac.js';

const CLIENT_ID = 'spiffe://cluster.local/ns/foo/sa/client';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server cert, a client cert with a SPIFFE URI SAN signed by it, and a self-signed impostor. */
function makePki(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/O=test/CN=test-ca');
  for (const [name, san] of [
    ['server', 'DNS:localhost'],
    ['client', `URI:${CLIENT_ID},DNS:client.foo.svc`],
  ] as const) {
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=test/CN=${name}`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'impostor.key', '-out', 'impostor.crt', '-days', '2', '-subj', '/O=evil/CN=impostor', '-addext', `subjectAltName=URI:${CLIENT_ID}`);
}

describe('peer identity of a TLS connection', () => {
  let dir: string;
  let server: tls.Server;
  let port: number;
  const seen: ConnectionInfo[] = [];
  const read = (f: string): Buffer => fs.readFileSync(path.join(dir, f));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meltemi-rbac-pki-'));
    makePki(dir);
    // Asks for a client certificate without requiring one (PERMISSIVE-like): what verified is what counts.
    server = tls.createServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: false }, (socket) => {
      seen.push(connectionInfoOf(socket));
      socket.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connectWith(key?: string, cert?: string): Promise<ConnectionInfo> {
    const before = seen.length;
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: read('ca.crt'), ...(key !== undefined ? { key: read(key), cert: read(cert!) } : {}) });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()).resume());
    assert.equal(seen.length, before + 1);
    return seen[before]!;
  }

  test('a verified client certificate: URI SAN principal, DNS SAN, subject, SNI', async () => {
    const info = await connectWith('client.key', 'client.crt');
    assert.equal(info.peer?.principal, CLIENT_ID);
    assert.deepEqual(info.peer?.uriSans, [CLIENT_ID]);
    assert.deepEqual(info.peer?.dnsSans, ['client.foo.svc']);
    assert.equal(info.peer?.subject, 'CN=client,O=test');
    assert.equal(info.requestedServerName, 'localhost');
    assert.equal(info.localPort, port);
  });

  test('RBAC: the verified principal is allowed; a self-signed impostor with the same SAN and a client without a certificate are not', async () => {
    const rbac = mustCompile('network', onePolicy([{ any: true }], [{ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/foo/.*' } } } }]));
    const anyTls = mustCompile('network', onePolicy([{ any: true }], [{ authenticated: {} }]));
    const good = await connectWith('client.key', 'client.crt');
    const impostor = await connectWith('impostor.key', 'impostor.crt');
    const anonymous = await connectWith();
    assert.deepEqual([good, impostor, anonymous].map((c) => rbac.check({ connection: c, metadata: undefined })), [true, false, false]);
    assert.equal(impostor.peer?.principal, undefined);
    // All three are TLS connections: `authenticated` with no name matches each.
    assert.deepEqual([good, impostor, anonymous].map((c) => anyTls.check({ connection: c, metadata: undefined })), [true, true, true]);
  });
});
