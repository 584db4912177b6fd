/**
 * A test xDS control plane on grpc-js: ADS (SotW and delta) and MetaRDS's
 * RouteDiscoveryService/StreamRoutes. It can behave as istiod (no answer to a NACK, full
 * resend on reconnect) or as go-control-plane (resend of the same version after a NACK,
 * no resend of wildcard types on a reconnect that carries the current version, delta
 * without removed_resources for unknown names) — spec/xds.md §0 item 4, §3.3, §6.
 * It records every request so tests can check ACK/NACK/nonce/version rules.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { deltaDiscoveryRequest, deltaDiscoveryResponse, discoveryRequest, discoveryResponse } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, LISTENER_TYPE } from '../../xds-client/type-urls.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../../xds-client/messages.js';

export type Flavour = 'istiod' | 'go-control-plane';

/** TLS for the server (PEM): with `clientCa`, clients must present a certificate signed by it (mTLS). */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

export interface StartOptions {
  tls?: ServerTls;
  /** Streams without `authorization: Bearer <token>` are refused (istiod's 15012). */
  token?: string;
}

/** A resource as a plain object with '@type' (encoded into an Any by protobufjs). */
export type Resource = Record<string, unknown> & { '@type': string };

export interface RecordedRequest {
  readonly stream: number;
  readonly method: 'ads' | 'ads-delta' | 'rds';
  readonly request: DiscoveryRequest | DeltaDiscoveryRequest;
}

interface TypeSnapshot {
  version: string;
  resources: Map<string, Resource>;
}

interface SotwSub {
  names: Set<string> | 'wildcard';
  nonce: string;
  lastSentVersion: string | undefined;
}

interface SotwConn {
  readonly id: number;
  readonly method: 'ads' | 'rds';
  readonly call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  readonly subs: Map<string, SotwSub>;
}

interface DeltaSub {
  names: Set<string> | 'wildcard';
  sent: Map<string, string>;
}

interface DeltaConn {
  readonly id: number;
  readonly call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
  readonly subs: Map<string, DeltaSub>;
}

const WILDCARD_TYPES = new Set([LISTENER_TYPE, CLUSTER_TYPE]);

function nameOf(r: Resource): string {
  return String(r['name'] ?? r['cluster_name'] ?? '');
}

/** Per-resource version: a content hash, as go-control-plane's delta does (spec/xds.md §3.3). */
function versionOf(r: Resource): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 16);
}

export class TestControlPlane {
  readonly flavour: Flavour;
  readonly requests: RecordedRequest[] = [];
  readonly #state = new Map<string, TypeSnapshot>();
  readonly #sotw = new Set<SotwConn>();
  readonly #delta = new Set<DeltaConn>();
  #server: grpc.Server | undefined;
  #nonce = 0;
  #streamIds = 0;
  port = 0;

  constructor(flavour: Flavour) {
    this.flavour = flavour;
  }

  /** Streams refused for a missing or wrong token. */
  refused = 0;
  #startOptions: StartOptions = {};

  /** Binds 127.0.0.1 (`port` 0 picks one; pass the old port to restart after stop()). */
  async start(port = this.port, opts: StartOptions = this.#startOptions): Promise<number> {
    this.#startOptions = opts;
    const server = new grpc.Server();
    const sotw = (method: 'ads' | 'rds'): grpc.MethodDefinition<DiscoveryRequest, DiscoveryResponse> => ({
      path: method === 'ads' ? '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources' : '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes',
      requestStream: true,
      responseStream: true,
      requestSerialize: discoveryRequest().serialize,
      requestDeserialize: discoveryRequest().deserialize,
      responseSerialize: discoveryResponse().serialize,
      responseDeserialize: discoveryResponse().deserialize,
    });
    const deltaDef: grpc.MethodDefinition<DeltaDiscoveryRequest, DeltaDiscoveryResponse> = {
      path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
      requestStream: true,
      responseStream: true,
      requestSerialize: deltaDiscoveryRequest().serialize,
      requestDeserialize: deltaDiscoveryRequest().deserialize,
      responseSerialize: deltaDiscoveryResponse().serialize,
      responseDeserialize: deltaDiscoveryResponse().deserialize,
    };
    server.addService(
      { StreamAggregatedResources: sotw('ads'), DeltaAggregatedResources: deltaDef },
      {
        StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#onSotw(call, 'ads'),
        DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => this.#onDelta(call),
      },
    );
    server.addService({ StreamRoutes: sotw('rds') }, { StreamRoutes: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.#onSotw(call, 'rds') });
    this.port = await new Promise<number>((resolve, reject) => {
      const creds =
        opts.tls === undefined
          ? grpc.ServerCredentials.createInsecure()
          : grpc.ServerCredentials.createSsl(opts.tls.clientCa ?? null, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], opts.tls.clientCa !== undefined);
      server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.#server = server;
    return this.port;
  }

  /** Kills the server: every stream ends at once (the "control plane died" case). */
  stop(): void {
    this.#server?.forceShutdown();
    this.#server = undefined;
    this.#sotw.clear();
    this.#delta.clear();
  }

  /** Open streams (SotW and delta). */
  get streams(): number {
    return this.#sotw.size + this.#delta.size;
  }

  /** Sets the whole state of a type and pushes it to every subscriber. */
  set(typeUrl: string, version: string, resources: Resource[]): void {
    this.#state.set(typeUrl, { version, resources: new Map(resources.map((r) => [nameOf(r), r])) });
    for (const c of this.#sotw) if (c.subs.has(typeUrl)) this.#pushSotw(c, typeUrl);
    for (const c of this.#delta) if (c.subs.has(typeUrl)) this.#pushDelta(c, typeUrl, undefined);
  }

  /** Sends resources as they are to every subscriber of the type, ignoring names (a buggy server). */
  pushRaw(typeUrl: string, version: string, resources: Resource[]): void {
    for (const c of this.#sotw) {
      const sub = c.subs.get(typeUrl);
      if (sub === undefined) continue;
      sub.nonce = String(++this.#nonce);
      c.call.write({ version_info: version, resources, type_url: typeUrl, nonce: sub.nonce });
    }
  }

  /** Requests of one type, in arrival order. */
  requestsOf(typeUrl: string): RecordedRequest[] {
    return this.requests.filter((r) => r.request.type_url === typeUrl);
  }

  /** istiod's 15012: a bearer token in the call metadata. */
  #authorized(call: grpc.ServerDuplexStream<unknown, unknown>): boolean {
    const want = this.#startOptions.token;
    if (want === undefined || call.metadata.get('authorization')[0] === `Bearer ${want}`) return true;
    this.refused++;
    call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'authentication failure' });
    return false;
  }

  #onSotw(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, method: 'ads' | 'rds'): void {
    if (!this.#authorized(call)) return;
    const conn: SotwConn = { id: ++this.#streamIds, method, call, subs: new Map() };
    this.#sotw.add(conn);
    call.on('data', (req: DiscoveryRequest) => this.#onSotwRequest(conn, req));
    call.on('error', () => this.#sotw.delete(conn));
    call.on('end', () => {
      this.#sotw.delete(conn);
      call.end();
    });
  }

  #onSotwRequest(conn: SotwConn, req: DiscoveryRequest): void {
    this.requests.push({ stream: conn.id, method: conn.method, request: req });
    const type = req.type_url;
    const list = req.resource_names ?? [];
    // An empty list is the legacy wildcard only for LDS and CDS; for EDS/RDS it subscribes to nothing.
    const names = list.includes('*') || (list.length === 0 && WILDCARD_TYPES.has(type)) ? 'wildcard' : new Set(list);
    const sub = conn.subs.get(type);
    const nonce = req.response_nonce ?? '';
    if (sub === undefined) {
      conn.subs.set(type, { names, nonce: '', lastSentVersion: undefined });
      const current = this.#state.get(type)?.version;
      // go-control-plane: a wildcard resubscription that already has the current version gets nothing.
      if (this.flavour === 'go-control-plane' && names === 'wildcard' && current !== undefined && req.version_info === current) return;
      this.#pushSotw(conn, type);
      return;
    }
    // Both servers ignore requests with a stale nonce.
    if (nonce !== sub.nonce) return;
    const changed = !sameNames(sub.names, names);
    sub.names = names;
    if (req.error_detail !== undefined && req.error_detail !== null) {
      // istiod never answers a NACK; go-control-plane sends the same version again.
      if (this.flavour === 'go-control-plane') this.#pushSotw(conn, type);
      return;
    }
    if (changed) this.#pushSotw(conn, type);
  }

  #pushSotw(conn: SotwConn, type: string): void {
    const snap = this.#state.get(type);
    const sub = conn.subs.get(type);
    if (snap === undefined || sub === undefined) return;
    const resources = [...snap.resources.values()].filter((r) => sub.names === 'wildcard' || sub.names.has(nameOf(r)));
    // Named types with nothing to send get nothing (the client's does-not-exist timer covers it).
    if (sub.names !== 'wildcard' && resources.length === 0) return;
    sub.nonce = String(++this.#nonce);
    sub.lastSentVersion = snap.version;
    conn.call.write({ version_info: snap.version, resources, type_url: type, nonce: sub.nonce });
  }

  #onDelta(call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void {
    if (!this.#authorized(call)) return;
    const conn: DeltaConn = { id: ++this.#streamIds, call, subs: new Map() };
    this.#delta.add(conn);
    call.on('data', (req: DeltaDiscoveryRequest) => this.#onDeltaRequest(conn, req));
    call.on('error', () => this.#delta.delete(conn));
    call.on('end', () => {
      this.#delta.delete(conn);
      call.end();
    });
  }

  #onDeltaRequest(conn: DeltaConn, req: DeltaDiscoveryRequest): void {
    this.requests.push({ stream: conn.id, method: 'ads-delta', request: req });
    const type = req.type_url;
    let sub = conn.subs.get(type);
    const subscribe = req.resource_names_subscribe ?? [];
    if (sub === undefined) {
      sub = { names: subscribe.length === 0 || subscribe.includes('*') ? 'wildcard' : new Set(subscribe), sent: new Map(Object.entries(req.initial_resource_versions ?? {})) };
      conn.subs.set(type, sub);
      this.#pushDelta(conn, type, new Set(Object.keys(req.initial_resource_versions ?? {})));
      return;
    }
    if (req.error_detail !== undefined && req.error_detail !== null) return;
    if (sub.names !== 'wildcard') {
      for (const n of subscribe) sub.names.add(n);
      for (const n of req.resource_names_unsubscribe ?? []) {
        sub.names.delete(n);
        sub.sent.delete(n);
      }
      if (subscribe.length > 0) this.#pushDelta(conn, type, new Set(subscribe));
    }
  }

  /** Sends what changed since the last push; `asked` are names the client asked about now. */
  #pushDelta(conn: DeltaConn, type: string, asked: Set<string> | undefined): void {
    const snap = this.#state.get(type);
    const sub = conn.subs.get(type);
    if (sub === undefined) return;
    const current = snap?.resources ?? new Map<string, Resource>();
    const wanted = (n: string): boolean => sub.names === 'wildcard' || sub.names.has(n);
    const resources = [...current.values()]
      .filter((r) => wanted(nameOf(r)) && sub.sent.get(nameOf(r)) !== versionOf(r))
      .map((r) => ({ name: nameOf(r), version: versionOf(r), resource: r }));
    const removed = [...sub.sent.keys()].filter((n) => !current.has(n));
    // istiod answers a subscription to an unknown name with removed_resources; go-control-plane does not.
    if (this.flavour === 'istiod' && asked !== undefined) for (const n of asked) if (!current.has(n) && n !== '*' && !removed.includes(n)) removed.push(n);
    if (resources.length === 0 && removed.length === 0) return;
    for (const r of resources) sub.sent.set(r.name, r.version);
    for (const n of removed) sub.sent.delete(n);
    conn.call.write({ system_version_info: snap?.version ?? '', resources, type_url: type, removed_resources: removed, nonce: String(++this.#nonce) });
  }
}

function sameNames(a: Set<string> | 'wildcard', b: Set<string> | 'wildcard'): boolean {
  if (a === 'wildcard' || b === 'wildcard') return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}
