/**
 * Meltemi's use of the generic xDS client: which resource types it subscribes to, how
 * subscriptions follow each other (EDS names follow CDS, MetaRDS names follow LDS and the
 * static listeners), and the compiled snapshot of what was accepted. The client knows
 * streams and caches; this knows what a Listener means to Meltemi.
 */
import { ConfigError } from '../../config/errors.js';
import { XdsClient } from '../../xds-client/xds-client.js';
import type { InitialFetchOutcome } from '../../xds-client/initial-fetch.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import type { BootstrapConfig, ConfigSourceConfig } from '../config/bootstrap-schema.js';
import type { CompiledCluster } from '../config/compile.js';
import type { CompiledListener } from '../config/compile-listener.js';
import { logger } from '../logger.js';
import { plainSnapshot } from './dynamic-snapshot.js';
import type { CompiledSnapshot, DynamicSnapshot } from './dynamic-snapshot.js';
import { parseConfigSource } from './resource-types/config-source.js';
import { MELTEMI_RESOURCE_TYPES, clusterType, endpointType, listenerType, routeType } from './resource-types/index.js';
import { resourceStatuses } from './resource-status.js';
import type { ResourceStatus } from './resource-status.js';

export interface MeltemiXdsOptions {
  /** Listeners of the static bootstrap: their `rds` subscriptions are served too. */
  readonly staticListeners?: readonly CompiledListener[];
  /** Called (at most once per event-loop turn) with the accepted dynamic config. */
  readonly onSnapshot: (snapshot: CompiledSnapshot) => void;
  /** Tests shorten these. */
  readonly doesNotExistTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** The resource types Meltemi subscribes to, by their short names (as in stats). */
export const DYNAMIC_TYPES = { lds: LISTENER_TYPE, cds: CLUSTER_TYPE, eds: ENDPOINT_TYPE, rds: ROUTE_TYPE } as const;

export class MeltemiXds {
  readonly #boot: BootstrapConfig;
  readonly #opts: MeltemiXdsOptions;
  readonly #client: XdsClient;
  readonly #staticRds: { name: string; cs: ConfigSourceConfig }[] = [];

  /** Throws a ConfigError when a static listener's rds.config_source is invalid. */
  constructor(boot: BootstrapConfig, opts: MeltemiXdsOptions) {
    this.#boot = boot;
    this.#opts = opts;
    const errors: string[] = [];
    for (const l of opts.staticListeners ?? []) {
      if (l.rds === undefined) continue;
      const cs = parseConfigSource(l.rds.configSource, `listener ${l.name}: rds.config_source`, errors);
      if (cs !== undefined) this.#staticRds.push({ name: l.rds.routeConfigName, cs });
    }
    if (errors.length > 0) throw new ConfigError(errors, 'bootstrap');
    this.#client = new XdsClient(boot, {
      types: MELTEMI_RESOURCE_TYPES,
      logger,
      userAgent: { name: 'meltemi', version: '0.1.0' },
      onChange: () => this.#onChange(),
      ...(opts.doesNotExistTimeoutMs !== undefined ? { doesNotExistTimeoutMs: opts.doesNotExistTimeoutMs } : {}),
      ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
      ...(opts.backoffMaxMs !== undefined ? { backoffMaxMs: opts.backoffMaxMs } : {}),
    });
  }

  /** Whether a bootstrap asks for xDS (dynamic resources, or static listeners with rds). */
  static wanted(boot: BootstrapConfig, staticListeners: readonly CompiledListener[]): boolean {
    return boot.dynamic_resources !== undefined || staticListeners.some((l) => l.rds !== undefined);
  }

  /** Opens the streams the bootstrap names. Connection problems are retried, never thrown. */
  start(): void {
    const dyn = this.#boot.dynamic_resources;
    if (dyn?.lds_config !== undefined) this.#client.subscribeAll(LISTENER_TYPE, dyn.lds_config);
    if (dyn?.cds_config !== undefined) this.#client.subscribeAll(CLUSTER_TYPE, dyn.cds_config);
    this.#syncSubscriptions();
  }

  close(): void {
    this.#client.close();
  }

  /** The accepted dynamic config now, compiled. */
  compiledSnapshot(): CompiledSnapshot {
    const endpoints = this.#client.resources(endpointType);
    const clusters: CompiledCluster[] = [...this.#client.resources(clusterType).values()].map(({ value: c }) =>
      c.eds === undefined ? c.cluster : { ...c.cluster, hosts: [...(endpoints.get(c.eds.serviceName)?.value ?? [])] },
    );
    return {
      listeners: [...this.#client.resources(listenerType).values()].map((r) => r.value),
      clusters,
      routes: [...this.#client.resources(routeType).values()].map((r) => r.value),
    };
  }

  /** The accepted dynamic config now, as plain data. */
  snapshot(): DynamicSnapshot {
    return plainSnapshot(this.compiledSnapshot());
  }

  /**
   * Per resource type (lds, cds, eds, rds): every resource with its version_info,
   * last_updated and the last rejected update (error_state), for /config_dump.
   */
  resourceStatus(): Record<keyof typeof DYNAMIC_TYPES, ResourceStatus[]> {
    const of = (t: string): ResourceStatus[] => resourceStatuses(this.#client.accepted(t), this.#client.rejected(t), this.#client.missing(t));
    return { lds: of(LISTENER_TYPE), cds: of(CLUSTER_TYPE), eds: of(ENDPOINT_TYPE), rds: of(ROUTE_TYPE) };
  }

  /**
   * Settles when the first response of a type was answered (accepted or rejected) or its
   * initial_fetch_timeout passed; pending while nothing subscribes to the type.
   */
  initialFetch(typeUrl: string): Promise<InitialFetchOutcome> {
    return this.#client.initialFetch(typeUrl);
  }

  /** /config_dump sections: streams with versions and the last NACK per type, resources, their states. */
  configDump(): object[] {
    const snap = this.snapshot();
    return [
      {
        '@type': 'type.googleapis.com/meltemi.admin.v1.XdsConfigDump',
        streams: this.#client.streamsDump(),
        dynamic_listeners: snap.listeners,
        dynamic_clusters: snap.clusters,
        dynamic_route_configs: snap.routes.map((r) => ({ name: r.name, route_config: r.config })),
        resource_status: this.resourceStatus(),
      },
    ];
  }

  /** Stats lines in Envoy's style: `xds.<stream>.<type>.update_success: 3`. */
  statsLines(): string[] {
    return this.#client.statsLines();
  }

  #onChange(): void {
    try {
      this.#syncSubscriptions();
    } catch (err) {
      // A config source that cannot be served (e.g. "ads" without ads_config): the rest goes on.
      logger.error({ err: (err as Error).message }, 'xDS: cannot follow a subscription');
    }
    this.#opts.onSnapshot(this.compiledSnapshot());
  }

  /** EDS names follow CDS, RDS names follow LDS (and the static listeners); unsubscribe by omission. */
  #syncSubscriptions(): void {
    const eds = [...this.#client.resources(clusterType).values()].flatMap(({ value: c }) => (c.eds === undefined ? [] : [{ name: c.eds.serviceName, source: c.eds.configSource }]));
    this.#client.setSubscriptions(ENDPOINT_TYPE, eds);
    const rds = this.#staticRds.map((r) => ({ name: r.name, source: r.cs }));
    for (const { value: l } of this.#client.resources(listenerType).values()) if (l.rds !== undefined) rds.push({ name: l.rds.routeConfigName, source: l.rds.configSource });
    this.#client.setSubscriptions(ROUTE_TYPE, rds);
  }
}
