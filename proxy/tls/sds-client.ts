/**
 * The SDS client: one state-of-the-world `SecretDiscoveryService/StreamSecrets` stream per
 * SDS server (Istio: the `sds-grpc` cluster, pilot-agent's Unix socket), on xds-client's
 * transport (reconnect with back-off, ACK/NACK, node on the first request). Secrets are
 * subscribed by name as TLS contexts ask for them; every push lands in the SecretStore.
 */
import type { BootstrapConfig } from '../config/bootstrap-schema.js';
import { logger } from '../logger.js';
import { controlPlaneChannel } from '../../xds-client/grpc-channel.js';
import { perTypeMethod } from '../../xds-client/method-paths.js';
import { SotwStream } from '../../xds-client/sotw-stream.js';
import { SECRET_TYPE } from '../../xds-client/type-urls.js';
import type { ResourceUpdate } from '../../xds-client/type-watcher.js';
import { decodeSecret } from './secret-resource.js';
import type { Secret, SecretStore } from './secret-store.js';
import type { SdsSource } from './tls-spec.js';

const USER_AGENT = 'meltemi';

interface ServerStream {
  readonly stream: SotwStream;
  readonly names: Set<string>;
}

export class SdsClient {
  readonly #boot: BootstrapConfig;
  readonly #store: SecretStore;
  readonly #streams = new Map<string, ServerStream>();
  #closed = false;

  constructor(boot: BootstrapConfig, store: SecretStore) {
    this.#boot = boot;
    this.#store = store;
  }

  /** Subscribes to `name` on `source` (idempotent); the secret arrives in the store. */
  want(source: SdsSource, name: string): void {
    if (this.#closed) return;
    let s = this.#streams.get(source.key);
    if (s === undefined) {
      s = this.#open(source);
      this.#streams.set(source.key, s);
    }
    if (s.names.has(name)) return;
    s.names.add(name);
    s.stream.setNames(SECRET_TYPE, s.names);
  }

  #open(source: SdsSource): ServerStream {
    const channel = controlPlaneChannel(this.#boot, source.apiConfigSource);
    const n = this.#boot.node ?? {};
    const stream = new SotwStream(
      {
        channel,
        logger,
        node: { id: n.id ?? '', cluster: n.cluster ?? '', ...(n.metadata !== undefined ? { metadata: n.metadata } : {}), user_agent_name: USER_AGENT },
        nodeOnFirstMessageOnly: source.apiConfigSource.set_node_on_first_message_only ?? true,
        // Istio's initial_fetch_timeout 0s: a secret is waited for, never declared missing.
        doesNotExistTimeoutMs: 2 ** 31 - 1,
      },
      perTypeMethod(SECRET_TYPE, false),
    );
    const names = new Set<string>();
    stream.watch({
      typeUrl: SECRET_TYPE,
      shortName: 'sds',
      wildcard: false,
      onUpdate: (u) => this.#onUpdate(source, u),
      onDoesNotExist: () => {},
      onResponse: () => {},
    });
    stream.start();
    logger.info({ sds: source.key, target: channel.target }, 'SDS stream opened');
    return { stream, names };
  }

  /** All or nothing, as for every xDS type: one bad secret NACKs the push, the old ones stay. */
  #onUpdate(source: SdsSource, u: ResourceUpdate): string[] {
    const errors: string[] = [];
    const decoded: [string, Secret][] = [];
    for (const [name, res] of u.resources) {
      const s = decodeSecret(res, errors);
      if (s !== undefined) decoded.push([name, s]);
    }
    if (errors.length > 0) return errors;
    for (const [name, s] of decoded) this.#store.set(source.key, name, s, u.versions.get(name) ?? '');
    if (decoded.length > 0) logger.info({ sds: source.key, secrets: decoded.map(([n]) => n) }, 'SDS secrets updated');
    return [];
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) s.stream.close();
    this.#streams.clear();
  }
}
