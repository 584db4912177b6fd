/**
 * A test SDS server on grpc-js that serves secrets as pilot-agent does (spec/istio-sidecar.md
 * §5.4): SotW `SecretDiscoveryService/StreamSecrets` on a Unix socket, `default` as a
 * tls_certificate and `ROOTCA` as a validation_context, inline PEM; `set` pushes a new
 * version to every open stream that asked for that name.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { discoveryRequest, discoveryResponse } from '../../xds-client/messages.js';
import type { DiscoveryRequest, DiscoveryResponse } from '../../xds-client/messages.js';
import { SECRET_TYPE } from '../../xds-client/type-urls.js';

type Secret = Record<string, unknown> & { '@type': string; name: string };

interface Stream {
  readonly call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  names: string[];
}

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

export function certificateSecret(name: string, certPem: string, keyPem: string): Secret {
  return { '@type': SECRET_TYPE, name, tls_certificate: { certificate_chain: { inline_bytes: b64(certPem) }, private_key: { inline_bytes: b64(keyPem) } } };
}

export function caSecret(name: string, pem: string): Secret {
  return { '@type': SECRET_TYPE, name, validation_context: { trusted_ca: { inline_bytes: b64(pem) } } };
}

export class TestSdsServer {
  readonly socketPath = join(mkdtempSync(join(tmpdir(), 'meltemi-sds-')), 'socket');
  readonly #server = new grpc.Server();
  readonly #secrets = new Map<string, Secret>();
  readonly #streams = new Set<Stream>();
  #version = 0;
  /** Every request received (ACKs and NACKs included). */
  readonly requests: DiscoveryRequest[] = [];

  async start(): Promise<void> {
    const req = discoveryRequest();
    const resp = discoveryResponse();
    const def: grpc.MethodDefinition<DiscoveryRequest, DiscoveryResponse> = {
      path: '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
      requestStream: true,
      responseStream: true,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: resp.serialize,
      responseDeserialize: resp.deserialize,
    };
    this.#server.addService({ StreamSecrets: def }, { StreamSecrets: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#onStream(call) });
    await new Promise<void>((resolve, reject) => this.#server.bindAsync(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  }

  /** Sets (or rotates) secrets and pushes them to the streams that asked for them. */
  set(...secrets: Secret[]): void {
    this.#version++;
    for (const s of secrets) this.#secrets.set(s.name, s);
    for (const st of this.#streams) this.#push(st);
  }

  #onStream(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const st: Stream = { call, names: [] };
    this.#streams.add(st);
    call.on('data', (r: DiscoveryRequest) => {
      this.requests.push(r);
      const names = r.resource_names ?? [];
      const changed = names.join(',') !== st.names.join(',');
      st.names = names;
      // A request with new names is answered at once; an ACK waits for the next push.
      if (changed) this.#push(st);
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
    call.on('close', () => this.#streams.delete(st));
  }

  #push(st: Stream): void {
    const resources = st.names.map((n) => this.#secrets.get(n)).filter((s): s is Secret => s !== undefined);
    if (resources.length === 0) return;
    st.call.write({ version_info: String(this.#version), resources, type_url: SECRET_TYPE, nonce: `n${this.#version}-${Math.random().toString(36).slice(2, 8)}` } as DiscoveryResponse);
  }

  /** An Envoy cluster for the bootstrap: `sds-grpc` with a pipe endpoint, as Istio's. */
  cluster(name = 'sds-grpc'): object {
    return {
      name,
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: this.socketPath } } } }] }] },
    };
  }

  stop(): void {
    this.#server.forceShutdown();
  }
}
