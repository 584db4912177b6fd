// Two Meltemi targets that put a mesh hop on the path, in one process so that its CPU is one
// number: an outbound listener (where the load connects) routes to cluster `mesh`, which is
// the same process's inbound listener, which routes to the echo server. `meltemi-chain` runs
// the hop in plaintext; `meltemi-mtls` runs it as Istio's mTLS (SPIFFE client and server
// certificates made with openssl, client certificate required, SAN checked, ALPN istio,
// TLS 1.3): the two side by side give what mTLS costs per request.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bootstrap } from './meltemi.ts';
import { freePort } from './net-util.ts';
import type { BenchProtocol } from '../protocols/protocol.ts';

export const MESH_TARGETS = ['meltemi-chain', 'meltemi-mtls'] as const;

interface Files {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA and two workload certificates with SPIFFE URI SANs (needs the openssl command). */
function makeCerts(): Files {
  const dir = mkdtempSync(join(tmpdir(), 'meltemi-bench-pki-'));
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/O=bench-ca');
  for (const who of ['server', 'client']) {
    ssl('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/O=${who}`);
    writeFileSync(f(`${who}.ext`), `subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/${who}\n`);
    ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', f(`${who}.ext`));
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

type Obj = Record<string, unknown>;

/** The bootstrap of a mesh target, given the listener port the load connects to. */
export async function meshBootstrap(name: (typeof MESH_TARGETS)[number], listenerPort: number, echoPort: number, protocol: BenchProtocol): Promise<string> {
  const innerPort = await freePort();
  const doc = parse(bootstrap(listenerPort, echoPort, protocol)) as { static_resources: { listeners: Obj[]; clusters: Obj[] } };
  const outer = doc.static_resources.listeners[0]!;
  const inner = structuredClone(outer);
  inner['name'] = `${protocol.name}-inbound`;
  inner['address'] = { socket_address: { address: '127.0.0.1', port_value: innerPort } };
  // The outbound listener's route goes to the mesh hop instead of the echo server.
  const mpp = ((outer['filter_chains'] as Obj[])[0]!['filters'] as Obj[])[0]!['typed_config'] as { route_config: { routes: { route: { cluster: string } }[] } };
  mpp.route_config.routes[0]!.route.cluster = 'mesh';
  const mesh: Obj = {
    name: 'mesh',
    connect_timeout: '1s',
    type: 'STATIC',
    load_assignment: { cluster_name: 'mesh', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: innerPort } } } }] }] },
  };
  if (name === 'meltemi-mtls') {
    const files = makeCerts();
    const params = { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' };
    mesh['transport_socket'] = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: `outbound_.${innerPort}_._.echo.bench.svc.cluster.local`,
        common_tls_context: {
          tls_params: params,
          alpn_protocols: ['istio'],
          tls_certificates: [{ certificate_chain: { filename: files.clientCert }, private_key: { filename: files.clientKey } }],
          validation_context: { trusted_ca: { filename: files.ca }, match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/bench/sa/server' }] },
        },
      },
    };
    (inner['filter_chains'] as Obj[])[0]!['transport_socket'] = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: {
          tls_params: params,
          alpn_protocols: ['istio-peer-exchange', 'istio'],
          tls_certificates: [{ certificate_chain: { filename: files.serverCert }, private_key: { filename: files.serverKey } }],
          validation_context: { trusted_ca: { filename: files.ca } },
        },
      },
    };
  }
  doc.static_resources.listeners.push(inner);
  doc.static_resources.clusters.push(mesh);
  return stringify(doc);
}
