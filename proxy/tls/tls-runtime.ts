/**
 * The TLS state of one process: the secret store, the SDS client, and a secure context per
 * distinct TLS spec. A context that uses SDS secrets is built once they all arrived, and
 * rebuilt after a push that changed one of them; a handshake takes `current()` when it
 * starts, so connections already up keep the context they were made with.
 */
import tls from 'node:tls';
import type { BootstrapConfig } from '../config/bootstrap-schema.js';
import { logger } from '../logger.js';
import { SdsClient } from './sds-client.js';
import { compileSanMatchers } from './san-match.js';
import type { SanPredicate } from './san-match.js';
import { SecretStore } from './secret-store.js';
import { sdsNamesOf } from './tls-spec.js';
import type { CaSource, TlsSpec } from './tls-spec.js';

/** A TLS spec made usable: its secure context (when its secrets are here) and its SAN check. */
export class TlsContext {
  readonly spec: TlsSpec;
  readonly sanMatches: SanPredicate;
  readonly #store: SecretStore;
  #builtAt = -1;
  #context: tls.SecureContext | undefined;
  /** The certificate chain of the context now in use (for /certs). */
  #certPems: string[] = [];
  #caPem: string | undefined;

  constructor(spec: TlsSpec, store: SecretStore) {
    this.spec = spec;
    this.#store = store;
    this.sanMatches = compileSanMatchers(spec.sanMatchers);
  }

  /** The context for a new handshake, or undefined while an SDS secret is still missing. */
  current(): tls.SecureContext | undefined {
    if (this.#builtAt !== this.#store.version) this.#rebuild();
    return this.#context;
  }

  /** True once every secret is here (a listener starts serving then). */
  get ready(): boolean {
    return this.current() !== undefined;
  }

  /** Resolves when `ready` (at once if it is, or if it never can be: `spec.problem`). */
  whenReady(): Promise<void> {
    if (this.ready || this.spec.problem !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.#store.onChange(() => {
        if (!this.ready) return;
        stop();
        resolve();
      });
    });
  }

  /** PEMs of the certificate chains and trusted CA in use (admin /certs). */
  get inUse(): { certificates: readonly string[]; ca: string | undefined } {
    this.current();
    return { certificates: this.#certPems, ca: this.#caPem };
  }

  #caPemOf(ca: CaSource): string | undefined {
    if (ca.kind === 'inline') return ca.pem;
    const s = this.#store.get(ca.source.key, ca.name)?.secret;
    return s?.kind === 'ca' ? s.pem : undefined;
  }

  #rebuild(): void {
    const version = this.#store.version;
    if (this.spec.problem !== undefined) return this.#keep(version);
    const certs: string[] = [];
    const keys: string[] = [];
    for (const c of this.spec.certificates) {
      if (c.kind === 'inline') {
        certs.push(c.certPem);
        keys.push(c.keyPem);
        continue;
      }
      const s = this.#store.get(c.source.key, c.name)?.secret;
      if (s?.kind !== 'certificate') return this.#keep(version);
      certs.push(s.certPem);
      keys.push(s.keyPem);
    }
    const ca = this.spec.trustedCa === undefined ? undefined : this.#caPemOf(this.spec.trustedCa);
    if (this.spec.trustedCa !== undefined && ca === undefined) return this.#keep(version);
    // Unchanged inputs (a push of another secret): keep the context, and its session cache.
    if (this.#context !== undefined && sameList(certs, this.#certPems) && ca === this.#caPem) return this.#keep(version);
    try {
      this.#context = tls.createSecureContext({
        ...(certs.length > 0 ? { cert: certs, key: keys } : {}),
        ...(ca !== undefined ? { ca } : {}),
        minVersion: this.spec.minVersion,
        maxVersion: this.spec.maxVersion,
        ...(this.spec.ciphers !== undefined ? { ciphers: this.spec.ciphers } : {}),
        ...(this.spec.ecdhCurve !== undefined ? { ecdhCurve: this.spec.ecdhCurve } : {}),
      });
      this.#certPems = certs;
      this.#caPem = ca;
    } catch (err) {
      // A key that does not fit its certificate: the previous context (if any) stays in use.
      logger.error({ err: (err as Error).message }, 'TLS: cannot build a secure context; keeping the previous one');
    }
    this.#builtAt = version;
  }

  #keep(version: number): void {
    this.#builtAt = version;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export class TlsRuntime {
  readonly store = new SecretStore();
  readonly #contexts = new Map<string, TlsContext>();
  #sds: SdsClient | undefined;
  readonly #boot: BootstrapConfig;

  constructor(boot: BootstrapConfig) {
    this.#boot = boot;
  }

  /** The context of `spec` (shared by equal specs); subscribes to its SDS secrets. */
  contextFor(spec: TlsSpec): TlsContext {
    let ctx = this.#contexts.get(spec.key);
    if (ctx === undefined) {
      ctx = new TlsContext(spec, this.store);
      this.#contexts.set(spec.key, ctx);
      for (const { name, source } of sdsNamesOf(spec)) {
        this.#sds ??= new SdsClient(this.#boot, this.store);
        try {
          this.#sds.want(source, name);
        } catch (err) {
          // An SDS cluster missing from the bootstrap: the context never gets ready; say why.
          logger.error({ secret: name, sds: source.key, err: (err as Error).message }, 'TLS: cannot subscribe to an SDS secret');
        }
      }
    }
    return ctx;
  }

  /** Every context made so far (admin /certs). */
  contexts(): IterableIterator<TlsContext> {
    return this.#contexts.values();
  }

  close(): void {
    this.#sds?.close();
  }
}
