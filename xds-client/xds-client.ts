/**
 * A generic xDS client: streams per control plane (ADS or per-type, SotW or delta, as each
 * ConfigSource says), subscriptions, a cache of what was accepted, and a change signal. What
 * a resource means is the owner's business: it hands the client one XdsResourceType per
 * kind of resource (decode, validate, equal) and reads the cache when told of a change.
 */
import { ConfigError } from '../config/errors.js';
import type { XdsApiConfigSource, XdsBootstrap, XdsConfigSource, XdsNode } from './bootstrap-types.js';
import { Backoff } from './backoff.js';
import { DeltaStream } from './delta-stream.js';
import { controlPlaneChannel } from './grpc-channel.js';
import { InitialFetch } from './initial-fetch.js';
import type { InitialFetchOutcome } from './initial-fetch.js';
import { SILENT_LOGGER } from './logger.js';
import type { XdsLogger } from './logger.js';
import { perTypeMethod } from './method-paths.js';
import { ResourceCache } from './resource-cache.js';
import type { CachedResource, RejectedResource } from './resource-cache.js';
import type { SomeResourceType, XdsResourceType } from './resource-type.js';
import { SotwStream } from './sotw-stream.js';
import type { XdsStreamBase } from './stream-base.js';
import { DOES_NOT_EXIST_TIMEOUT_MS } from './stream-base.js';
import { ADS_DELTA_METHOD, ADS_SOTW_METHOD } from './type-urls.js';
import type { ResourceUpdate, TypeWatcher } from './type-watcher.js';

export interface XdsClientOptions {
  /** Every kind of resource the owner will subscribe to. */
  readonly types: readonly SomeResourceType[];
  /**
   * Called (at most once per microtask turn, after the ACK went out) when something was
   * accepted or found missing: the owner reads `resources()` and may change subscriptions.
   */
  readonly onChange: () => void;
  readonly logger?: XdsLogger;
  /** For the node's user_agent_* when the bootstrap leaves them out. */
  readonly userAgent?: { readonly name: string; readonly version: string };
  /** Tests shorten these. */
  readonly doesNotExistTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** One named subscription: a resource name and where it comes from. */
export interface NamedSubscription {
  readonly name: string;
  /** undefined: over ADS. */
  readonly source: XdsConfigSource | undefined;
}

type Stream = XdsStreamBase<{ type_url: string }, unknown>;

/** True when a ConfigSource means "over the ADS stream". */
function isAds(cs: XdsConfigSource | undefined): boolean {
  return cs === undefined || cs.ads !== undefined || (cs.api_config_source?.api_type.startsWith('AGGREGATED') ?? false);
}

export class XdsClient {
  readonly #boot: XdsBootstrap;
  readonly #opts: XdsClientOptions;
  readonly #log: XdsLogger;
  readonly #types = new Map<string, SomeResourceType>();
  readonly #caches = new Map<string, ResourceCache<unknown>>();
  readonly #initial = new Map<string, InitialFetch>();
  readonly #streams = new Map<string, Stream>();
  #changeQueued = false;
  #closed = false;

  constructor(boot: XdsBootstrap, opts: XdsClientOptions) {
    this.#boot = boot;
    this.#opts = opts;
    this.#log = opts.logger ?? SILENT_LOGGER;
    for (const t of opts.types) {
      if (this.#types.has(t.typeUrl)) throw new Error(`xDS: resource type ${t.typeUrl} given twice`);
      this.#types.set(t.typeUrl, t);
      this.#caches.set(t.typeUrl, new ResourceCache());
      this.#initial.set(t.typeUrl, new InitialFetch());
    }
  }

  /** Subscribes to every resource of a type (LDS, CDS) from `source`. */
  subscribeAll(typeUrl: string, source: XdsConfigSource | undefined): void {
    this.#streamFor(source, typeUrl, true);
  }

  /**
   * Sets the whole list of named subscriptions of a type (EDS, RDS), across config
   * sources: names no longer listed are unsubscribed and dropped from the cache.
   */
  setSubscriptions(typeUrl: string, wanted: readonly NamedSubscription[]): void {
    const byStream = new Map<string, Set<string>>();
    for (const w of wanted) {
      const key = this.#streamFor(w.source, typeUrl, false);
      const set = byStream.get(key) ?? new Set<string>();
      set.add(w.name);
      byStream.set(key, set);
    }
    for (const [key, s] of this.#streams) if (s.typeStates().has(typeUrl) && !s.typeStates().get(typeUrl)!.watcher.wildcard) s.setNames(typeUrl, byStream.get(key) ?? []);
    const names = new Set(wanted.map((w) => w.name));
    const cache = this.#cache(typeUrl);
    for (const n of cache.names()) if (!names.has(n)) cache.delete(n);
  }

  /** The accepted resources of a type, by name. */
  resources<T>(type: XdsResourceType<T>): ReadonlyMap<string, CachedResource<T>> {
    return (this.#cache(type.typeUrl) as ResourceCache<T>).accepted;
  }

  /** The accepted resources of a type with their values untyped (for dumps). */
  accepted(typeUrl: string): ReadonlyMap<string, CachedResource<unknown>> {
    return this.#cache(typeUrl).accepted;
  }

  /** The last rejected update of each resource of a type that has one, by name. */
  rejected(typeUrl: string): ReadonlyMap<string, RejectedResource> {
    return this.#cache(typeUrl).rejected;
  }

  /** Names of a type a subscription asked for and the server never sent. */
  missing(typeUrl: string): ReadonlySet<string> {
    return this.#cache(typeUrl).missing;
  }

  /**
   * Settles once the first response of the type was answered (accepted or rejected), or
   * its config source's initial_fetch_timeout (Envoy's default 15 s) passed since it was
   * first subscribed. Stays pending while nothing subscribes to the type.
   */
  initialFetch(typeUrl: string): Promise<InitialFetchOutcome> {
    const f = this.#initial.get(typeUrl);
    if (f === undefined) throw new Error(`xDS: unknown resource type ${typeUrl}`);
    return f.promise;
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
    for (const f of this.#initial.values()) f.cancelTimer();
  }

  /** Per stream: its control plane, connection counters and per-type protocol state. */
  streamsDump(): object[] {
    return [...this.#streams.entries()].map(([key, s]) => ({
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

  #cache(typeUrl: string): ResourceCache<unknown> {
    const c = this.#caches.get(typeUrl);
    if (c === undefined) throw new Error(`xDS: unknown resource type ${typeUrl}`);
    return c;
  }

  #type(typeUrl: string): SomeResourceType {
    const t = this.#types.get(typeUrl);
    if (t === undefined) throw new Error(`xDS: unknown resource type ${typeUrl}`);
    return t;
  }

  /** The stream that carries `typeUrl` from `cs` (opened on first use); returns its key. */
  #streamFor(cs: XdsConfigSource | undefined, typeUrl: string, wildcard: boolean): string {
    const type = this.#type(typeUrl);
    let api: XdsApiConfigSource | undefined;
    let key: string;
    if (isAds(cs) && cs?.api_config_source === undefined) {
      api = this.#boot.dynamic_resources?.ads_config;
      if (api === undefined) throw new ConfigError(['a config source says ads, but the bootstrap has no dynamic_resources.ads_config'], 'xDS config source');
      key = 'ads';
    } else {
      api = cs!.api_config_source!;
      const cluster = api.grpc_services[0]!.envoy_grpc.cluster_name;
      key = api.api_type.startsWith('AGGREGATED') ? `ads|${cluster}` : `${type.shortName}|${cluster}`;
    }
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      const delta = api.api_type === 'DELTA_GRPC' || api.api_type === 'AGGREGATED_DELTA_GRPC';
      const method = key.startsWith('ads') ? (delta ? ADS_DELTA_METHOD : ADS_SOTW_METHOD) : perTypeMethod(typeUrl, delta);
      const streamOpts = {
        channel: controlPlaneChannel(this.#boot, api),
        node: this.#node(),
        nodeOnFirstMessageOnly: api.set_node_on_first_message_only ?? true,
        backoff: new Backoff(this.#opts.backoffBaseMs, this.#opts.backoffMaxMs),
        logger: this.#log,
        ...(this.#opts.doesNotExistTimeoutMs !== undefined ? { doesNotExistTimeoutMs: this.#opts.doesNotExistTimeoutMs } : {}),
      };
      stream = (delta ? new DeltaStream(streamOpts, method) : new SotwStream(streamOpts, method)) as unknown as Stream;
      this.#streams.set(key, stream);
      stream.start();
      this.#log.info({ xds: key, method, cluster: api.grpc_services[0]!.envoy_grpc.cluster_name }, 'xDS stream opened');
    }
    if (!stream.typeStates().has(typeUrl)) {
      stream.watch(this.#watcher(type, wildcard));
      this.#initial.get(typeUrl)!.start(cs?.initial_fetch_timeout ?? this.#opts.doesNotExistTimeoutMs ?? DOES_NOT_EXIST_TIMEOUT_MS);
    }
    return key;
  }

  #node(): object {
    const n: XdsNode = this.#boot.node ?? {};
    return {
      id: n.id ?? '',
      cluster: n.cluster ?? '',
      ...(n.metadata !== undefined ? { metadata: n.metadata } : {}),
      ...(n.locality !== undefined ? { locality: n.locality } : {}),
      user_agent_name: n.user_agent_name ?? this.#opts.userAgent?.name ?? 'xds-client',
      user_agent_version: n.user_agent_version ?? this.#opts.userAgent?.version ?? '',
      client_features: n.client_features ?? [],
    };
  }

  #watcher(type: SomeResourceType, wildcard: boolean): TypeWatcher {
    const cache = this.#cache(type.typeUrl);
    const initial = this.#initial.get(type.typeUrl)!;
    return {
      typeUrl: type.typeUrl,
      shortName: type.shortName,
      wildcard,
      onUpdate: (u, subscribed) => this.#onUpdate(type, cache, u, subscribed),
      onDoesNotExist: (name) => {
        if (cache.accepted.has(name) || cache.missing.has(name)) return;
        cache.markMissing(name);
        this.#changed();
      },
      onResponse: (accepted) => initial.settle(accepted ? 'accepted' : 'rejected'),
    };
  }

  /**
   * Decodes and validates every resource of an update, then applies it to the cache as the
   * type's acceptance says. Returns the errors (the NACK).
   */
  #onUpdate(type: SomeResourceType, cache: ResourceCache<unknown>, u: ResourceUpdate, subscribed: ReadonlySet<string> | '*'): string[] {
    // With nothing subscribed, an empty request reads as the legacy wildcard to some servers:
    // what they send then is not wanted, but not wrong either.
    if (subscribed !== '*' && subscribed.size === 0) return [];
    const now = new Date().toISOString();
    const errors: string[] = [];
    const warnings: string[] = [];
    const next = new Map<string, unknown>();
    const rejected = new Set<string>();
    for (const [name, raw] of u.resources) {
      // A resend of what was accepted keeps its value without decoding (and compiling) it again.
      const same = cache.unchanged(name, raw);
      const d = same !== undefined ? ({ kind: 'ok', value: same.value } as const) : type.decode(raw);
      if (d.kind === 'ignored') continue;
      const problems = d.kind === 'invalid' ? d.errors : type.validate(d.value, { name, subscribed });
      if (d.kind === 'invalid' || problems.length > 0) {
        errors.push(...problems);
        rejected.add(name);
        cache.reject(name, { failedConfiguration: raw, lastUpdateAttempt: now, details: problems.join('; '), version: u.versions.get(name) ?? '' });
        continue;
      }
      if (d.warnings !== undefined) warnings.push(...d.warnings);
      next.set(name, d.value);
    }
    if (errors.length > 0 && type.acceptance === 'all-or-nothing') return errors;
    for (const w of warnings) this.#log.warn({ xds: type.shortName }, w);
    if (u.full) for (const n of [...cache.accepted.keys()]) if (!next.has(n) && !rejected.has(n)) cache.delete(n);
    if (type.ignoresRemovals !== true) for (const n of u.removed) cache.delete(n);
    for (const [n, v] of next) cache.accept(n, v, u.versions.get(n) ?? '', (a, b) => type.equal(a, b), now, u.resources.get(n));
    this.#changed();
    return errors;
  }

  /** Something was accepted: tell the owner once per turn, after the ACK went out. */
  #changed(): void {
    if (this.#changeQueued) return;
    this.#changeQueued = true;
    queueMicrotask(() => {
      this.#changeQueued = false;
      if (!this.#closed) this.#opts.onChange();
    });
  }
}
