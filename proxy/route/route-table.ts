import type { Metadata } from '../../codecs/api/index.js';
import type { MetaRouteConfig, RouteConfigurationConfig } from '../config/bootstrap-schema.js';
import type { MirrorPolicy, RetryOn, RetryPolicy, RouteCounters, RouterRoute, SubsetSelector } from '../../filters/api/index.js';
import { compileHeaderMatcher } from '../../config/header-matcher.js';
import type { MetadataPredicate } from '../../config/header-matcher.js';

/** Per-route counters, read by the admin server and the quickstart summary. */
export type RouteStats = RouteCounters;
/** The compiled policies are the router's types (filters/api/upstream.ts). */
export type { MirrorPolicy, RetryOn, RetryPolicy };

interface WeightedTarget {
  readonly name: string;
  /** End of this cluster's interval in [0, total). */
  readonly upTo: number;
}

/** One compiled route: everything the data path needs, computed when the config changed. */
export class RouteEntry implements RouterRoute {
  readonly name: string;
  readonly #matchers: MetadataPredicate[];
  readonly #cluster: string | undefined;
  readonly #weighted: WeightedTarget[];
  readonly #totalWeight: number;
  readonly requestMutation: ReadonlyMap<string, string> | null;
  readonly responseMutation: ReadonlyMap<string, string> | null;
  readonly hashKeys: readonly string[];
  readonly mirrors: readonly MirrorPolicy[];
  /** Request timeout in ms, or undefined to use the listener default. */
  readonly timeoutMs: number | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  /** The subset of the cluster's hosts to use (metadata_match on `envoy.lb` labels). */
  readonly subset: SubsetSelector | undefined;
  readonly stats: RouteStats = { requests: 0, responses: 0, errors: 0, localReplies: 0 };

  constructor(config: MetaRouteConfig, index: number) {
    this.name = config.name ?? `route-${index}`;
    this.#matchers = (config.match?.metadata ?? []).map(compileHeaderMatcher);
    this.#cluster = config.route.cluster;
    let total = 0;
    this.#weighted = (config.route.weighted_clusters?.clusters ?? []).map((c) => {
      total += c.weight;
      return { name: c.name, upTo: total };
    });
    this.#totalWeight = total;
    if (this.#cluster === undefined && this.#weighted.length === 0) {
      throw new Error(`route ${this.name}: route.cluster or route.weighted_clusters is required`);
    }
    if (this.#cluster === undefined && total === 0) throw new Error(`route ${this.name}: the weights of weighted_clusters add up to 0`);
    this.requestMutation = toMap(config.request_mutation);
    this.responseMutation = toMap(config.response_mutation);
    this.hashKeys = (config.route.hash_policy ?? []).map((k) => k.toLowerCase());
    this.mirrors = (config.route.request_mirror_policies ?? []).map((m) => ({
      cluster: m.cluster,
      fraction: fractionOf(m.runtime_fraction?.default_value),
    }));
    this.timeoutMs = config.route.timeout;
    this.retryPolicy = compileRetryPolicy(this.name, config.route.retry_policy);
    this.subset = compileSubset(config.route.metadata_match?.filter_metadata['envoy.lb']);
  }

  matches(metadata: Metadata): boolean {
    for (const m of this.#matchers) if (!m(metadata)) return false;
    return true;
  }

  /** The target cluster; `random` in [0, 1) picks among weighted clusters. */
  pickCluster(random: number): string {
    if (this.#cluster !== undefined) return this.#cluster;
    const point = Math.floor(random * this.#totalWeight);
    for (const w of this.#weighted) if (point < w.upTo) return w.name;
    return this.#weighted[this.#weighted.length - 1]!.name;
  }

  /** Every cluster this route can send to (for validation and config dumps). */
  get clusters(): string[] {
    const names = this.#cluster !== undefined ? [this.#cluster] : this.#weighted.map((w) => w.name);
    return [...names, ...this.mirrors.map((m) => m.cluster)];
  }
}

function compileSubset(labels: unknown): SubsetSelector | undefined {
  if (typeof labels !== 'object' || labels === null) return undefined;
  const entries = Object.entries(labels as Record<string, unknown>)
    .map(([k, v]) => [k, String(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (entries.length === 0) return undefined;
  return { key: JSON.stringify(entries), entries };
}

/** Envoy's names map onto the failures a MetaProtocol request can meet. */
const RETRY_ON: Record<string, readonly RetryOn[]> = {
  'connect-failure': ['connect-failure'],
  reset: ['reset'],
  'error-reply': ['error-reply'],
  'per-try-timeout': ['per-try-timeout'],
  '5xx': ['connect-failure', 'reset', 'error-reply', 'per-try-timeout'],
  'gateway-error': ['connect-failure', 'reset', 'per-try-timeout'],
};

function compileRetryPolicy(
  route: string,
  p: { retry_on: string; num_retries?: number; per_try_timeout?: number; retry_back_off?: { base_interval: number; max_interval?: number } } | undefined,
): RetryPolicy | undefined {
  if (p === undefined) return undefined;
  const retryOn = new Set<RetryOn>();
  for (const name of p.retry_on.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const kinds = RETRY_ON[name];
    if (kinds === undefined) throw new Error(`route ${route}: retry_on '${name}' is not one of ${Object.keys(RETRY_ON).join(', ')}`);
    for (const k of kinds) retryOn.add(k);
  }
  const base = p.retry_back_off?.base_interval ?? 25;
  return {
    retryOn,
    // Envoy: num_retries defaults to 1.
    numRetries: p.num_retries ?? 1,
    // 0 means no per-try timeout, as in Envoy.
    perTryTimeoutMs: p.per_try_timeout === 0 ? undefined : p.per_try_timeout,
    baseIntervalMs: base,
    maxIntervalMs: p.retry_back_off?.max_interval ?? base * 10,
  };
}

function toMap(kvs: { key: string; value: string }[] | undefined): ReadonlyMap<string, string> | null {
  if (kvs === undefined || kvs.length === 0) return null;
  return new Map(kvs.map((kv) => [kv.key, kv.value]));
}

const DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

/** An absent runtime_fraction means 100%, as in Envoy (Aeraki's client wrongly makes it 0%). */
function fractionOf(fp: { numerator: number; denominator?: keyof typeof DENOMINATORS } | undefined): number {
  if (fp === undefined) return 1;
  return Math.min(1, fp.numerator / DENOMINATORS[fp.denominator ?? 'HUNDRED']);
}

/** An immutable, compiled route table: first match wins (spec/metaprotocol.md §6.1). */
export class RouteTable {
  readonly name: string;
  readonly routes: readonly RouteEntry[];
  /** Metadata keys the table reads (so codecs know which deep parses are needed). */
  readonly keys: ReadonlySet<string>;
  readonly source: RouteConfigurationConfig;

  constructor(config: RouteConfigurationConfig) {
    this.source = config;
    this.name = config.name ?? '';
    this.routes = config.routes.map((r, i) => new RouteEntry(r, i));
    const keys = new Set<string>();
    for (const r of config.routes) {
      for (const m of r.match?.metadata ?? []) keys.add(m.name.toLowerCase());
      for (const k of r.route.hash_policy ?? []) keys.add(k.toLowerCase());
    }
    this.keys = keys;
  }

  match(metadata: Metadata): RouteEntry | undefined {
    for (const r of this.routes) if (r.matches(metadata)) return r;
    return undefined;
  }

  static readonly EMPTY = new RouteTable({ name: '', routes: [] });
}
