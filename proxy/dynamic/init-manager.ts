/**
 * When a proxy with xDS config turns LIVE, as Envoy's init manager decides it: once the
 * first LDS, CDS, EDS and MetaRDS responses have been applied, or each type's
 * initial_fetch_timeout has passed (0s: wait for ever, as Istio's bootstrap asks). Until
 * then /ready and `server.state` say INITIALIZING, so the kubelet's probe (through
 * pilot-agent) keeps the pod out of its Service. A rejected first response also ends the
 * wait for its type, as in Envoy; pilot-agent then still waits for an accepted one.
 * Envoy's init targets are here too: work started before LIVE that must end first (a
 * listener from LDS that waits for its SDS certificates before it binds) holds the state
 * at INITIALIZING until it settles (waitFor).
 */
import type { BootstrapConfig } from '../config/bootstrap-schema.js';
import type { ServerState } from '../server-state.js';

/** Counters of one watched xDS type (xds-client's TypeStats). */
export interface TypeProgress {
  readonly update_success: number;
  readonly update_rejected: number;
  readonly does_not_exist: number;
}

/** Envoy's default initial_fetch_timeout. */
const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

export class InitManager {
  #state: ServerState = 'PRE_INITIALIZING';
  /** Per type: when it was first seen watched (its timeout runs from then). */
  readonly #since = new Map<string, number>();
  readonly #timeouts: Readonly<Record<string, number>>;
  /** The types the bootstrap asks for from the start; EDS and MetaRDS join when watched. */
  readonly #base: readonly string[];
  readonly #types: () => ReadonlyMap<string, TypeProgress>;
  #timer: NodeJS.Timeout | undefined;
  readonly #onLive: () => void;
  /** Init targets not settled yet (waitFor). */
  #pending = 0;

  /**
   * `types` returns the watched types with their counters, as they are after the snapshots
   * applied so far; `onLive` runs once, when the state turns LIVE.
   */
  constructor(boot: BootstrapConfig, types: () => ReadonlyMap<string, TypeProgress>, onLive: () => void = () => undefined) {
    this.#types = types;
    const d = boot.dynamic_resources;
    this.#base = [...(d?.lds_config !== undefined ? ['lds'] : []), ...(d?.cds_config !== undefined ? ['cds'] : [])];
    const lds = boot.dynamic_resources?.lds_config?.initial_fetch_timeout ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
    const cds = boot.dynamic_resources?.cds_config?.initial_fetch_timeout ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
    // EDS and MetaRDS sources come with each cluster and listener; Meltemi takes the timeout of
    // the type that delivered them (Istio sets 0s everywhere).
    this.#timeouts = { lds, cds, eds: cds, rds: lds };
    this.#onLive = onLive;
  }

  get state(): ServerState {
    return this.#state;
  }

  /** The xDS client started: INITIALIZING, checked at every applied snapshot and every 250 ms. */
  start(): void {
    if (this.#state !== 'PRE_INITIALIZING') return;
    this.#state = 'INITIALIZING';
    this.#timer = setInterval(() => this.check(), 250);
    this.#timer.unref();
    this.check();
  }

  /**
   * An init target: LIVE waits until `work` settles (either way) when it starts before LIVE;
   * after LIVE it changes nothing (Envoy: a later listener warms on its own).
   */
  waitFor(work: Promise<unknown>): void {
    if (this.#state === 'LIVE') return;
    this.#pending++;
    const done = (): void => {
      this.#pending--;
      this.check();
    };
    work.then(done, done);
  }

  /** Re-evaluates (call it after a snapshot was applied). */
  check(now = Date.now()): void {
    if (this.#state !== 'INITIALIZING' || this.#pending > 0) return;
    const types = this.#types();
    for (const t of this.#base) if (!this.#since.has(t)) this.#since.set(t, now);
    for (const t of types.keys()) if (!this.#since.has(t)) this.#since.set(t, now);
    for (const [type, since] of this.#since) {
      const p = types.get(type);
      const answered = p !== undefined && p.update_success + p.update_rejected + p.does_not_exist > 0;
      if (answered) continue;
      const timeout = this.#timeouts[type] ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
      if (timeout === 0 || now - since < timeout) return;
    }
    this.#state = 'LIVE';
    this.close();
    this.#onLive();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
