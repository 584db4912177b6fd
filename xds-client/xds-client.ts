/**
 * Meltemi's xDS client: the ADS stream for LDS/CDS/EDS (SotW or delta, as the bootstrap's
 * ads_config says), one MetaRDS stream per route config source, a cache of everything
 * accepted, and a plain DynamicSnapshot each time the accepted config changes.
 */
import type { ApiConfigSourceConfig, BootstrapConfig, ConfigSourceConfig } from '../proxy/config/bootstrap-schema.js';
import type { CompiledCluster } from '../proxy/config/compile.js';
import type { CompiledListener } from '../proxy/config/compile-listener.js';
import { logger } from '../proxy/logger.js';
import type { HostConfig } from '../proxy/upstream/cluster.js';
import { Backoff } from './backoff.js';
import { DeltaStream } from './delta-stream.js';
import { checkEnumValues } from './enum-check.js';
import { controlPlaneChannel } from './grpc-channel.js';
import { perTypeMethod } from './method-paths.js';
import { decodeCluster, decodeListener, endpointResourceName, hostsOf, parseConfigSource } from './resources.js';
import type { ClusterResource, ListenerResource } from './resources.js';
import { metaRouteConfigFromRds } from './route-translation.js';
import type { DynamicSnapshot, SnapshotRoute } from './snapshot.js';
import type { XdsStreamBase } from './stream-base.js';
import { SotwStream } from './sotw-stream.js';
import { ADS_DELTA_METHOD, ADS_SOTW_METHOD, CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE, TYPE_SHORT_NAMES } from './type-urls.js';
import type { XdsTypeUrl } from './type-urls.js';
import type { ResourceUpdate, TypeWatcher } from './type-watcher.js';
import { newTypeStats } from './xds-stats.js';
import type { TypeStats } from './xds-stats.js';

export interface XdsClientOptions {
  /** Listeners of the static bootstrap: their `rds` subscriptions are served too. */
  readonly staticListeners?: readonly CompiledListener[];
  /** Called (at most once per event-loop turn) with the accepted dynamic config. */
  readonly onSnapshot: (snapshot: DynamicSnapshot) => void;
  /** Tests shorten these. */
  readonly doesNotExistTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- streams of both flavours are handled alike
type AnyStream = XdsStreamBase<any, any>;

const USER_AGENT = 'meltemi';
const VERSION = '0.1.0';

/** True when a ConfigSource means "over the ADS stream". */
function isAds(cs: ConfigSourceConfig | undefined): boolean {
  return cs === undefined || cs.ads !== undefined || (cs.api_config_source?.api_type.startsWith('AGGREGATED') ?? false);
}

export class XdsClient {
  readonly #boot: BootstrapConfig;
  readonly #opts: XdsClientOptions;
  readonly #streams = new Map<string, AnyStream>();
  readonly #listeners = new Map<string, ListenerResource>();
  readonly #clusters = new Map<string, ClusterResource>();
  readonly #endpoints = new Map<string, HostConfig[]>();
  readonly #routes = new Map<string, SnapshotRoute>();
  #snapshotQueued = false;
  #subscriptionsQueued = false;
  #closed = false;

  readonly #staticRds: { name: string; cs: ConfigSourceConfig }[] = [];

  /** Throws when a static listener's rds.config_source is invalid. */
  constructor(boot: BootstrapConfig, opts: XdsClientOptions) {
    this.#boot = boot;
    this.#opts = opts;
    const errors: string[] = [];
    for (const l of opts.staticListeners ?? []) {
      if (l.rds === undefined) continue;
      const cs = parseConfigSource(l.rds.configSource, `listener ${l.name}: rds.config_source`, errors);
      if (cs !== undefined) this.#staticRds.push({ name: l.rds.routeConfigName, cs });
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  /** Whether a bootstrap asks for xDS (dynamic resources, or static listeners with rds). */
  static wanted(boot: BootstrapConfig, staticListeners: readonly CompiledListener[]): boolean {
    return boot.dynamic_resources !== undefined || staticListeners.some((l) => l.rds !== undefined);
  }

  /** Opens the streams the bootstrap names. Connection problems are retried, never thrown. */
  start(): void {
    const dyn = this.#boot.dynamic_resources;
    if (dyn?.lds_config !== undefined) this.#streamFor(dyn.lds_config, LISTENER_TYPE, true);
    if (dyn?.cds_config !== undefined) this.#streamFor(dyn.cds_config, CLUSTER_TYPE, true);
    this.#syncSubscriptions();
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
  }

  /** The accepted dynamic config now. */
  snapshot(): DynamicSnapshot {
    const clusters: CompiledCluster[] = [...this.#clusters.values()].map((c) =>
      c.eds === undefined ? c.cluster : { ...c.cluster, hosts: this.#endpoints.get(c.eds.serviceName) ?? [] },
    );
    return {
      listeners: [...this.#listeners.values()].map((l) => ({ name: l.name, listener: l.listener })),
      clusters,
      routes: [...this.#routes.values()],
    };
  }

  /** /config_dump sections: resources with versions, the last NACK per type, per stream. */
  configDump(): object[] {
    const streams = [...this.#streams.entries()].map(([key, s]) => ({
      stream: key,
      control_plane_cluster: s.target,
      connected: s.connected,
      connects: s.stats.connects,
      reconnects: s.stats.reconnects,
      types: [...s.typeStates().values()].map((st) => ({
        type_url: st.watcher.typeUrl,
        version_info: st.version,
        resource_versions: Object.fromEntries(st.resourceVersions),
        subscribed: st.watcher.wildcard ? ['*'] : [...st.names],
        last_nack: st.lastNack ?? null,
        stats: st.stats,
      })),
    }));
    const snap = this.snapshot();
    return [
      {
        '@type': 'type.googleapis.com/meltemi.admin.v1.XdsConfigDump',
        streams,
        dynamic_listeners: snap.listeners,
        dynamic_clusters: snap.clusters,
        dynamic_route_configs: snap.routes.map((r) => ({ name: r.name, route_config: r.config })),
      },
    ];
  }

  /**
   * The counters of each watched type (`lds`, `cds`, `eds`, `rds`), summed over the streams
   * that carry it. A type is in the map once something watches it: the readiness check
   * (proxy/dynamic/init-manager.ts) waits for the first response of each.
   */
  typeTotals(): Map<string, TypeStats> {
    const out = new Map<string, TypeStats>();
    for (const s of this.#streams.values()) {
      for (const [type, st] of s.stats.types) {
        const t = out.get(type) ?? newTypeStats();
        t.update_attempt += st.update_attempt;
        t.update_success += st.update_success;
        t.update_rejected += st.update_rejected;
        t.does_not_exist += st.does_not_exist;
        out.set(type, t);
      }
    }
    return out;
  }

  /** Stats lines in Envoy's style: `xds.<stream>.<type>.update_success: 3`. */
  statsLines(): string[] {
    const lines: string[] = [];
    for (const [key, s] of this.#streams) {
      const prefix = `xds.${key.replace(/[|:]/g, '_')}`;
      lines.push(`${prefix}.connects: ${s.stats.connects}`, `${prefix}.reconnects: ${s.stats.reconnects}`);
      for (const [type, st] of s.stats.types) for (const [k, v] of Object.entries(st)) lines.push(`${prefix}.${type}.${k}: ${v}`);
    }
    return lines;
  }

  #streamFor(cs: ConfigSourceConfig | undefined, type: XdsTypeUrl, wildcard: boolean): string {
    let api: ApiConfigSourceConfig | undefined;
    let key: string;
    if (isAds(cs) && cs?.api_config_source === undefined) {
      api = this.#boot.dynamic_resources?.ads_config;
      if (api === undefined) throw new Error('xDS: a config source says ads, but the bootstrap has no dynamic_resources.ads_config');
      key = 'ads';
    } else {
      api = cs!.api_config_source!;
      key = api.api_type.startsWith('AGGREGATED') ? `ads|${api.grpc_services[0]!.envoy_grpc.cluster_name}` : `${TYPE_SHORT_NAMES[type]}|${api.grpc_services[0]!.envoy_grpc.cluster_name}`;
    }
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      const delta = api.api_type === 'DELTA_GRPC' || api.api_type === 'AGGREGATED_DELTA_GRPC';
      const aggregated = key.startsWith('ads');
      const method = aggregated ? (delta ? ADS_DELTA_METHOD : ADS_SOTW_METHOD) : perTypeMethod(type, delta);
      const streamOpts = {
        channel: controlPlaneChannel(this.#boot, api),
        node: this.#node(),
        nodeOnFirstMessageOnly: api.set_node_on_first_message_only ?? true,
        backoff: new Backoff(this.#opts.backoffBaseMs, this.#opts.backoffMaxMs),
        ...(this.#opts.doesNotExistTimeoutMs !== undefined ? { doesNotExistTimeoutMs: this.#opts.doesNotExistTimeoutMs } : {}),
      };
      stream = delta ? new DeltaStream(streamOpts, method) : new SotwStream(streamOpts, method);
      this.#streams.set(key, stream);
      stream.start();
      logger.info({ xds: key, method, cluster: api.grpc_services[0]!.envoy_grpc.cluster_name }, 'xDS stream opened');
    }
    if (!stream.typeStates().has(type)) stream.watch(this.#watcher(type, wildcard, key));
    return key;
  }

  #node(): object {
    const n = this.#boot.node ?? {};
    return {
      id: n.id ?? '',
      cluster: n.cluster ?? '',
      ...(n.metadata !== undefined ? { metadata: n.metadata } : {}),
      ...(n.locality !== undefined ? { locality: n.locality } : {}),
      user_agent_name: n.user_agent_name ?? USER_AGENT,
      user_agent_version: n.user_agent_version ?? VERSION,
      client_features: n.client_features ?? [],
    };
  }

  #watcher(type: XdsTypeUrl, wildcard: boolean, streamKey: string): TypeWatcher {
    const onUpdate = (u: ResourceUpdate): string[] => {
      const errors =
        type === LISTENER_TYPE ? this.#onListeners(u) : type === CLUSTER_TYPE ? this.#onClusters(u) : type === ENDPOINT_TYPE ? this.#onEndpoints(u) : this.#onRoutes(u, streamKey);
      if (errors.length === 0) this.#changed();
      return errors;
    };
    const onDoesNotExist = (name: string): void => {
      if (type === ENDPOINT_TYPE && !this.#endpoints.has(name)) {
        this.#endpoints.set(name, []);
        this.#changed();
      }
    };
    return { typeUrl: type, wildcard, onUpdate, onDoesNotExist };
  }

  /**
   * A listener that cannot be used (an unknown filter, a bad field) is rejected alone, as
   * Envoy does: the others of the push apply, the rejected one keeps its previous version,
   * and the errors NACK the push.
   */
  #onListeners(u: ResourceUpdate): string[] {
    const errors: string[] = [];
    const next = new Map<string, ListenerResource>();
    const rejected = new Set<string>();
    for (const [name, res] of u.resources) {
      const before = errors.length;
      const l = decodeListener(res, errors);
      if (errors.length > before) rejected.add(name);
      else if (l !== undefined && l !== 'not-ours') next.set(l.name, l);
    }
    if (u.full) for (const n of [...this.#listeners.keys()]) if (!rejected.has(n)) this.#listeners.delete(n);
    for (const n of u.removed) this.#listeners.delete(n);
    for (const [n, l] of next) this.#listeners.set(n, l);
    // The stream calls #changed only for an update without errors; this one applied in part.
    if (errors.length > 0) this.#changed();
    return errors;
  }

  #onClusters(u: ResourceUpdate): string[] {
    const errors: string[] = [];
    const warnings: string[] = [];
    const next = new Map<string, ClusterResource>();
    for (const res of u.resources.values()) {
      const c = decodeCluster(res, errors, warnings);
      if (c !== undefined) next.set(c.cluster.name, c);
    }
    if (errors.length > 0) return errors;
    for (const w of warnings) logger.warn(w);
    if (u.full) this.#clusters.clear();
    for (const n of u.removed) this.#clusters.delete(n);
    for (const [n, c] of next) this.#clusters.set(n, c);
    return [];
  }

  #onEndpoints(u: ResourceUpdate): string[] {
    const errors: string[] = [];
    const next = new Map<string, HostConfig[]>();
    for (const res of u.resources.values()) {
      const name = endpointResourceName(res);
      const before = errors.length;
      checkEnumValues('envoy.config.endpoint.v3.ClusterLoadAssignment', res, `cluster load assignment ${name}`, errors);
      if (errors.length > before) continue;
      const hosts = hostsOf(res, `cluster load assignment ${name}`, errors);
      if (hosts !== undefined) next.set(name, hosts);
    }
    if (errors.length > 0) return errors;
    for (const n of u.removed) this.#endpoints.set(n, []);
    for (const [n, h] of next) this.#endpoints.set(n, h);
    return [];
  }

  #onRoutes(u: ResourceUpdate, streamKey: string): string[] {
    const wanted = this.#streams.get(streamKey)?.typeStates().get(ROUTE_TYPE)?.names ?? new Set<string>();
    // With nothing subscribed, an empty request reads as the legacy wildcard to some servers:
    // what they send then is not wanted, but not wrong either.
    if (wanted.size === 0) return [];
    const errors: string[] = [];
    const next: SnapshotRoute[] = [];
    for (const [name, res] of u.resources) {
      const cfg = metaRouteConfigFromRds(res, wanted.has(name) ? name : [...wanted].join(' or '), errors);
      if (cfg !== undefined) next.push({ name, config: cfg });
    }
    if (errors.length > 0) return errors;
    // Removals are ignored (as Aeraki's client does): the table stays until no listener wants it.
    for (const r of next) this.#routes.set(r.name, r);
    return [];
  }

  /** Something was accepted: re-derive subscriptions and emit a snapshot, once per turn. */
  #changed(): void {
    if (!this.#subscriptionsQueued) {
      this.#subscriptionsQueued = true;
      // After the ACK of the response being handled goes out.
      queueMicrotask(() => {
        this.#subscriptionsQueued = false;
        if (!this.#closed) this.#syncSubscriptions();
      });
    }
    if (!this.#snapshotQueued) {
      this.#snapshotQueued = true;
      queueMicrotask(() => {
        this.#snapshotQueued = false;
        if (!this.#closed) this.#opts.onSnapshot(this.snapshot());
      });
    }
  }

  /** EDS names follow CDS, RDS names follow LDS (and the static listeners); unsubscribe by omission. */
  #syncSubscriptions(): void {
    const eds = new Map<string, { cs: ConfigSourceConfig | undefined; names: Set<string> }>();
    for (const c of this.#clusters.values()) {
      if (c.eds === undefined) continue;
      const key = this.#streamFor(c.eds.configSource, ENDPOINT_TYPE, false);
      const e = eds.get(key) ?? { cs: c.eds.configSource, names: new Set<string>() };
      e.names.add(c.eds.serviceName);
      eds.set(key, e);
    }
    const rds = new Map<string, Set<string>>();
    const rdsOf = [...this.#staticRds];
    for (const l of this.#listeners.values()) if (l.rds !== undefined) rdsOf.push({ name: l.rds.routeConfigName, cs: l.rds.configSource });
    for (const r of rdsOf) {
      const key = this.#streamFor(r.cs, ROUTE_TYPE, false);
      const set = rds.get(key) ?? new Set<string>();
      set.add(r.name);
      rds.set(key, set);
    }
    for (const [key, s] of this.#streams) {
      if (s.typeStates().has(ENDPOINT_TYPE)) s.setNames(ENDPOINT_TYPE, eds.get(key)?.names ?? []);
      if (s.typeStates().has(ROUTE_TYPE)) s.setNames(ROUTE_TYPE, rds.get(key) ?? []);
    }
    // Drop what nothing references any more.
    const edsNames = new Set([...eds.values()].flatMap((e) => [...e.names]));
    for (const n of [...this.#endpoints.keys()]) if (!edsNames.has(n)) this.#endpoints.delete(n);
    const rdsNames = new Set([...rds.values()].flatMap((s) => [...s]));
    for (const n of [...this.#routes.keys()]) if (!rdsNames.has(n)) this.#routes.delete(n);
  }
}
