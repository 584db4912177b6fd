/**
 * A test xDS control plane on grpc-js: ADS (SotW and delta) and MetaRDS's
 * RouteDiscoveryService/StreamRoutes. It can behave as istiod (no answer to a NACK, full
 * resend on reconnect) or as go-control-plane (resend of the same version after a NACK,
 * no resend of wildcard types on a reconnect that carries the current version, delta
 * without removed_resources for unknown names) — spec/xds.md §0 item 4, §3.3, §6.
 * It records every request so tests can check ACK/NACK/nonce/version rules.
 */
import * as grpc from '@grpc/grpc-js';
import { deltaDiscoveryRequest, deltaDiscoveryResponse, discoveryRequest, discoveryResponse } from '../../xds-client/messages.js';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from '../../xds-client/messages.js';

export type Flavour = 'istiod' | 'go-control-plane';

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

function nameOf(r: Resource): string {
  return String(r['name'] ?? r['cluster_name'] ?? '');
}

function versionOf(r: Resource): string {
  return JSON.stringify(r);
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

  /** Binds 127.0.0.1 (`port` 0 picks one; pass the old port to restart after stop()). */
  async start(port = this.port): Promise<number> {
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
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
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

  /** Requests of one type, in arrival order. */
  requestsOf(typeUrl: string): RecordedRequest[] {
    return this.requests.filter((r) => r.request.type_url === typeUrl);
  }

  #onSotw(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, method: 'ads' | 'rds'): void {
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
    const names = (req.resource_names ?? []).length === 0 || (req.resource_names ?? []).includes('*') ? 'wildcard' : new Set(req.resource_names);
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
