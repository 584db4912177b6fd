import { logger } from '../logger.js';
import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import type { OverloadSettings } from './overload-config.js';

/** Why a new connection was refused; undefined when it is admitted. */
export type Refusal = 'listener_limit' | 'global_limit' | 'overload';

/**
 * What the data path reads on its hot paths: plain fields, so a check is a property read.
 * `rejectingRequests` is set while the heap is past its second watermark.
 */
export interface OverloadState {
  readonly rejectingRequests: boolean;
}

/** Heap in use as the watermarks count it: the V8 heap plus Buffers and other external memory. */
function heapInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * The process's overload manager (Envoy's, reduced to what a sidecar needs): a global and a
 * per-listener downstream connection limit, checked at accept, and two heap watermarks,
 * sampled every `refreshIntervalMs` by one timer. Past the first, new connections are
 * refused; past the second, new requests get the protocol's overload error.
 */
export class OverloadManager implements OverloadState {
  readonly settings: OverloadSettings;
  /** Downstream connections open in this process, over every listener. */
  activeConnections = 0;
  acceptingConnections = true;
  rejectingRequests = false;
  #heap = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Heap that measures this process, replaceable so tests can drive the watermarks. */
  readonly #measure: () => number;

  constructor(settings: OverloadSettings, measure: () => number = heapInUse) {
    this.settings = settings;
    this.#measure = measure;
    if (settings.heapStopAcceptingConnections !== undefined || settings.heapStopAcceptingRequests !== undefined) {
      this.sample();
      this.#timer = setInterval(() => this.sample(), settings.refreshIntervalMs);
      this.#timer.unref();
    }
  }

  /** Reads the heap and moves both actions (logged when they change). */
  sample(): void {
    const s = this.settings;
    const heap = (this.#heap = this.#measure());
    const accept = s.heapStopAcceptingConnections === undefined || heap < s.heapStopAcceptingConnections;
    const reject = s.heapStopAcceptingRequests !== undefined && heap >= s.heapStopAcceptingRequests;
    if (accept !== this.acceptingConnections) logger.warn({ heap }, accept ? 'overload: accepting connections again' : 'overload: heap past its watermark, refusing new connections');
    if (reject !== this.rejectingRequests) logger.warn({ heap }, reject ? 'overload: heap past its second watermark, answering new requests with the overload error' : 'overload: taking requests again');
    this.acceptingConnections = accept;
    this.rejectingRequests = reject;
  }

  /** Whether a listener with `listenerActive` connections may take one more. */
  admit(listenerActive: number): Refusal | undefined {
    const s = this.settings;
    if (!this.acceptingConnections) return 'overload';
    if (s.maxDownstreamConnections !== undefined && this.activeConnections >= s.maxDownstreamConnections) return 'global_limit';
    if (s.maxConnectionsPerListener !== undefined && listenerActive >= s.maxConnectionsPerListener) return 'listener_limit';
    return undefined;
  }

  /** Envoy's overload gauges: each action's state and each monitor's pressure (percent). */
  collect(into: StatsSnapshot): void {
    const s = this.settings;
    into.gauges['overload.envoy.overload_actions.stop_accepting_connections.active'] = this.acceptingConnections ? 0 : 1;
    into.gauges['overload.envoy.overload_actions.stop_accepting_requests.active'] = this.rejectingRequests ? 1 : 0;
    into.gauges['overload.envoy.resource_monitors.global_downstream_max_connections.active'] = this.activeConnections;
    if (s.maxDownstreamConnections !== undefined) {
      into.gauges['overload.envoy.resource_monitors.global_downstream_max_connections.pressure'] = Math.round((100 * this.activeConnections) / s.maxDownstreamConnections);
    }
    const heapMax = s.heapStopAcceptingRequests ?? s.heapStopAcceptingConnections;
    if (heapMax !== undefined) into.gauges['overload.envoy.resource_monitors.fixed_heap.pressure'] = Math.round((100 * this.#heap) / heapMax);
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
