import type { Counter, Gauge, Histogram, StatTags, StatsScope } from '../../filters/api/index.js';
import type { LatencyHistogram } from './histogram.js';
import { StatsRegistry } from './stats-registry.js';
import type { StatCell } from './stats-registry.js';
import { taggedName } from './stats-snapshot.js';

/** A handle that can move to the registry of the server that adopts its listener. */
interface Movable {
  moveTo(registry: StatsRegistry): void;
}

/**
 * Where the stats of one compiled listener's filters go. Filters are created when the
 * listener is compiled, before any server adopts it (and xDS validation compiles listeners
 * no server ever adopts), so their stats start in a registry of their own and move to the
 * server's when it adopts the listener (`bind`). Handles made after that go straight there.
 */
export class StatsBinding {
  #registry = new StatsRegistry();
  #enabled = true;
  #pending: Movable[] | null = [];

  get registry(): StatsRegistry {
    return this.#registry;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Keeps `handle` to move on `bind`, and returns it. */
  track<T extends Movable>(handle: T): T {
    this.#pending?.push(handle);
    return handle;
  }

  /** Moves every handle made so far to `registry`; later handles are made there. Binding again to the same registry does nothing. */
  bind(registry: StatsRegistry, enabled: boolean): void {
    this.#enabled = enabled;
    if (registry === this.#registry) return;
    this.#registry = registry;
    const pending = this.#pending ?? [];
    this.#pending = null;
    for (const h of pending) h.moveTo(registry);
  }
}

class CounterHandle implements Counter, Movable {
  #cell: StatCell;
  readonly #key: string;

  constructor(key: string, registry: StatsRegistry) {
    this.#key = key;
    this.#cell = registry.counter(key);
  }

  inc(n = 1): void {
    this.#cell.value += n;
  }

  get value(): number {
    return this.#cell.value;
  }

  moveTo(registry: StatsRegistry): void {
    const to = registry.counter(this.#key);
    if (to === this.#cell) return;
    to.value += this.#cell.value;
    this.#cell = to;
  }
}

class GaugeHandle implements Gauge, Movable {
  #cell: StatCell;
  readonly #key: string;

  constructor(key: string, registry: StatsRegistry) {
    this.#key = key;
    this.#cell = registry.gauge(key);
  }

  set(value: number): void {
    this.#cell.value = value;
  }

  add(delta: number): void {
    this.#cell.value += delta;
  }

  get value(): number {
    return this.#cell.value;
  }

  moveTo(registry: StatsRegistry): void {
    const to = registry.gauge(this.#key);
    if (to === this.#cell) return;
    // A gauge set before the move is the newest word on it.
    if (this.#cell.value !== 0) to.value = this.#cell.value;
    this.#cell = to;
  }
}

class HistogramHandle implements Histogram, Movable {
  #h: LatencyHistogram;
  readonly #key: string;

  constructor(key: string, registry: StatsRegistry) {
    this.#key = key;
    this.#h = registry.histogram(key);
  }

  record(value: number): void {
    this.#h.record(value);
  }

  moveTo(registry: StatsRegistry): void {
    const to = registry.histogram(this.#key);
    if (to === this.#h) return;
    to.absorb(this.#h);
    this.#h = to;
  }
}

function keyOf(name: string, tags: StatTags | undefined): string {
  return tags === undefined || tags.length === 0 ? name : taggedName(name, tags);
}

/** The filter API's StatsScope over a binding (see StatsBinding). */
export class BoundStatsScope implements StatsScope {
  readonly prefix: string;
  readonly #binding: StatsBinding;

  constructor(prefix: string, binding: StatsBinding) {
    this.prefix = prefix;
    this.#binding = binding;
  }

  get enabled(): boolean {
    return this.#binding.enabled;
  }

  counter(name: string, tags?: StatTags): Counter {
    const b = this.#binding;
    return b.track(new CounterHandle(keyOf(this.prefix + name, tags), b.registry));
  }

  gauge(name: string, tags?: StatTags): Gauge {
    const b = this.#binding;
    return b.track(new GaugeHandle(keyOf(this.prefix + name, tags), b.registry));
  }

  histogram(name: string, tags?: StatTags): Histogram {
    const b = this.#binding;
    return b.track(new HistogramHandle(keyOf(this.prefix + name, tags), b.registry));
  }

  scope(name: string): StatsScope {
    return new BoundStatsScope(`${this.prefix}${name}.`, this.#binding);
  }
}
