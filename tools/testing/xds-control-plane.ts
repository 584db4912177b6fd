/**
 * A test xDS control plane on grpc-js: ADS (SotW and delta) and MetaRDS's
 * RouteDiscoveryService/StreamRoutes. It can behave as istiod (no answer to a NACK, full
 * resend on reconnect, pushes whenever the config changes) or as go-control-plane v0.11.1's
 * SnapshotCache (spec/xds.md §0 item 4, §3.3, §6), whose rules, read from its
 * sotw/delta servers and cache, are:
 * - a response only answers an outstanding request ("watch"): each request of a type opens
 *   one, each response closes it, and a config change reaches only a stream with one open;
 * - a SotW request whose version_info differs from the current version is answered at once,
 *   so a NACK (which carries the last accepted version) gets the rejected version again,
 *   with a new nonce; a request carrying the current version waits for the next change (so
 *   a reconnect with the current LDS/CDS version gets nothing);
 * - a SotW request with a stale nonce is ignored (the open watch stays);
 * - delta: every request (a NACK too) opens a watch, answered with the resources whose
 *   version differs from what was last sent; no removed_resources for unknown names;
 * - Structs and maps are encoded in Go map order, i.e. a random key order on every push.
 * It records every request so tests can check ACK/NACK/nonce/version rules.
 */
import { createHash } from 'node:crypto';
import { chmodSync } from 'node:fs';
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

export interface ControlPlaneOptions {
  /** Seeds the key shuffling of go-control-plane mode (a failing run can be replayed). */
  seed?: number;
  /**
   * Delta: answer a NACK by sending the same resources again (what go-control-plane's SotW
   * server does; its delta server does not), to check the delta client does not loop.
   */
  resendDeltaOnNack?: boolean;
}

export interface StartOptions {
  tls?: ServerTls;
  /** Streams without `authorization: Bearer <token>` are refused (istiod's 15012). */
  token?: string;
  /**
   * Also serve on this Unix socket (as pilot-agent's ./etc/istio/proxy/XDS): reachable from
   * other network namespaces, which 127.0.0.1 is not (test/mesh). Made writable by any uid.
   */
  unixPath?: string;
}

/** A resource as a plain object with '@type' (encoded into an Any by protobufjs). */
export type Resource = Record<string, unknown> & { '@type': string };

export interface RecordedRequest {
  readonly stream: number;
  readonly method: 'ads' | 'ads-delta' | 'rds';
  readonly request: DiscoveryRequest | DeltaDiscoveryRequest;
  /** When it arrived (performance.now()). */
  readonly at: number;
}

interface TypeSnapshot {
  version: string;
  resources: Map<string, Resource>;
}

interface SotwSub {
  names: Set<string> | 'wildcard';
  nonce: string;
  lastSentVersion: string | undefined;
  /** go-control-plane: the version_info of the outstanding request, if one is open. */
  watch: string | undefined;
  /** go-control-plane: names of the last response, once the client echoed its nonce. */
  known: Set<string>;
  lastSentNames: Set<string>;
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
  /** go-control-plane: a request is outstanding. */
  watch: boolean;
  /** The last response, for resendDeltaOnNack. */
  last: DeltaDiscoveryResponse | undefined;
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

/** A small seeded PRNG (mulberry32), so a shuffle can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A copy with the keys of every object in a random order. For proto message fields this
 * changes nothing on the wire (protobufjs encodes them in field order); Structs and maps
 * come out in that order, as Go's encoder of a map does.
 */
function shuffleKeys(v: unknown, random: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, random));
  if (typeof v !== 'object' || v === null) return v;
  const entries = Object.entries(v);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, random)]));
}

export class TestControlPlane {
  readonly flavour: Flavour;
  readonly seed: number;
  readonly #random: () => number;
  readonly #resendDeltaOnNack: boolean;
  readonly requests: RecordedRequest[] = [];
  readonly #state = new Map<string, TypeSnapshot>();
  readonly #sotw = new Set<SotwConn>();
  readonly #delta = new Set<DeltaConn>();
  #server: grpc.Server | undefined;
  #nonce = 0;
  #streamIds = 0;
  port = 0;

  constructor(flavour: Flavour, opts: ControlPlaneOptions = {}) {
    this.flavour = flavour;
    this.seed = opts.seed ?? 1;
    this.#random = prng(this.seed);
    this.#resendDeltaOnNack = opts.resendDeltaOnNack ?? false;
  }

  get #gcp(): boolean {
    return this.flavour === 'go-control-plane';
  }

  /** Resources as this server encodes them: go-control-plane in Go map order. */
  #encode(resources: Resource[]): Resource[] {
    return this.#gcp ? resources.map((r) => shuffleKeys(r, this.#random) as Resource) : resources;
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
    const unixPath = opts.unixPath;
    if (unixPath !== undefined) {
      await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${unixPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
      chmodSync(unixPath, 0o777);
    }
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

  /**
   * Sets the whole state of a type and pushes it to every subscriber (go-control-plane: to
   * every subscriber with a request outstanding whose version differs).
   */
  set(typeUrl: string, version: string, resources: Resource[]): void {
    this.#state.set(typeUrl, { version, resources: new Map(resources.map((r) => [nameOf(r), r])) });
    for (const c of this.#sotw) {
      const sub = c.subs.get(typeUrl);
      if (sub === undefined) continue;
      if (!this.#gcp) this.#pushSotw(c, typeUrl);
      else if (sub.watch !== undefined && sub.watch !== version) this.#pushSotw(c, typeUrl);
    }
    for (const c of this.#delta) {
      const sub = c.subs.get(typeUrl);
      if (sub !== undefined && (!this.#gcp || sub.watch)) this.#pushDelta(c, typeUrl, undefined);
    }
  }

  /** go-control-plane: streams with a request outstanding for the type (for tests). */
  outstanding(typeUrl: string): number {
    let n = 0;
    for (const c of this.#sotw) if (c.subs.get(typeUrl)?.watch !== undefined) n++;
    for (const c of this.#delta) if (c.subs.get(typeUrl)?.watch === true) n++;
    return n;
  }

  /** Sends resources as they are to every subscriber of the type, ignoring names (a buggy server). */
  pushRaw(typeUrl: string, version: string, resources: Resource[]): void {
    for (const c of this.#sotw) {
      const sub = c.subs.get(typeUrl);
      if (sub === undefined) continue;
      sub.nonce = String(++this.#nonce);
      sub.watch = undefined;
      c.call.write({ version_info: version, resources: this.#encode(resources), type_url: typeUrl, nonce: sub.nonce });
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
    this.requests.push({ stream: conn.id, method: conn.method, request: req, at: performance.now() });
    const type = req.type_url;
    const list = req.resource_names ?? [];
    // An empty list is the legacy wildcard only for LDS and CDS; for EDS/RDS it subscribes to nothing.
    const names = list.includes('*') || (list.length === 0 && WILDCARD_TYPES.has(type)) ? 'wildcard' : new Set(list);
    if (this.#gcp) {
      this.#onGcpSotwRequest(conn, req, names);
      return;
    }
    const sub = conn.subs.get(type);
    const nonce = req.response_nonce ?? '';
    if (sub === undefined) {
      conn.subs.set(type, { names, nonce: '', lastSentVersion: undefined, watch: undefined, known: new Set(), lastSentNames: new Set() });
      this.#pushSotw(conn, type);
      return;
    }
    // Both servers ignore requests with a stale nonce.
    if (nonce !== sub.nonce) return;
    const changed = !sameNames(sub.names, names);
    sub.names = names;
    // istiod never answers a NACK.
    if (req.error_detail !== undefined && req.error_detail !== null) return;
    if (changed) this.#pushSotw(conn, type);
  }

  /** go-control-plane's sotw server + SnapshotCache.CreateWatch (v0.11.1). */
  #onGcpSotwRequest(conn: SotwConn, req: DiscoveryRequest, names: Set<string> | 'wildcard'): void {
    const type = req.type_url;
    const nonce = req.response_nonce ?? '';
    let sub = conn.subs.get(type);
    if (sub === undefined) {
      sub = { names, nonce: '', lastSentVersion: undefined, watch: undefined, known: new Set(), lastSentNames: new Set() };
      conn.subs.set(type, sub);
    } else {
      // A request that echoes the last nonce (ACK or NACK) records what the client has.
      if (sub.nonce === '' || sub.nonce === nonce) sub.known = sub.lastSentNames;
      // A stale nonce leaves the open watch as it is.
      if (sub.nonce !== '' && sub.nonce !== nonce) return;
      sub.names = names;
    }
    sub.watch = req.version_info ?? '';
    const snap = this.#state.get(type);
    if (snap === undefined) return;
    const known = sub.known;
    const asksNew = names !== 'wildcard' && [...names].some((n) => !known.has(n) && snap.resources.has(n));
    if (asksNew || sub.watch !== snap.version) this.#pushSotw(conn, type);
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
    sub.lastSentNames = new Set(resources.map(nameOf));
    sub.watch = undefined;
    conn.call.write({ version_info: snap.version, resources: this.#encode(resources), type_url: type, nonce: sub.nonce });
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
    this.requests.push({ stream: conn.id, method: 'ads-delta', request: req, at: performance.now() });
    const type = req.type_url;
    let sub = conn.subs.get(type);
    const subscribe = req.resource_names_subscribe ?? [];
    if (sub === undefined) {
      sub = { names: subscribe.length === 0 || subscribe.includes('*') ? 'wildcard' : new Set(subscribe), sent: new Map(Object.entries(req.initial_resource_versions ?? {})), watch: true, last: undefined };
      conn.subs.set(type, sub);
      this.#pushDelta(conn, type, new Set(Object.keys(req.initial_resource_versions ?? {})));
      return;
    }
    if (sub.names !== 'wildcard') {
      for (const n of subscribe) sub.names.add(n);
      for (const n of req.resource_names_unsubscribe ?? []) {
        sub.names.delete(n);
        sub.sent.delete(n);
      }
    }
    const nack = req.error_detail !== undefined && req.error_detail !== null;
    if (nack && this.#resendDeltaOnNack && sub.last !== undefined) {
      sub.last = { ...sub.last, nonce: String(++this.#nonce) };
      conn.call.write(sub.last);
      return;
    }
    if (this.#gcp) {
      // Every request, a NACK too, opens a watch: answered at once if something differs from what was sent.
      sub.watch = true;
      this.#pushDelta(conn, type, new Set(subscribe));
      return;
    }
    if (nack) return;
    if (sub.names !== 'wildcard' && subscribe.length > 0) this.#pushDelta(conn, type, new Set(subscribe));
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
    // go-control-plane records what it sent as what the client has, whether or not it is ACKed.
    for (const r of resources) sub.sent.set(r.name, r.version);
    for (const n of removed) sub.sent.delete(n);
    sub.watch = false;
    const encoded = resources.map((r) => ({ ...r, resource: this.#encode([r.resource])[0]! }));
    sub.last = { system_version_info: snap?.version ?? '', resources: encoded, type_url: type, removed_resources: removed, nonce: String(++this.#nonce) };
    conn.call.write(sub.last);
  }
}

function sameNames(a: Set<string> | 'wildcard', b: Set<string> | 'wildcard'): boolean {
  if (a === 'wildcard' || b === 'wildcard') return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}
