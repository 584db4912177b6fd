/**
 * What the xDS client accepted and rejected, per resource, with versions and times: the
 * facts behind Envoy's `/config_dump` (`version_info`, `last_updated`, `error_state`). Plain
 * data, kept apart from the transport so the admin can read it without knowing streams.
 */
import type { DecodedResource } from './messages.js';

/** A resource as last accepted. */
export interface AcceptedRecord {
  readonly name: string;
  /** The version of the update that delivered it (SotW: the response's; delta: the resource's). */
  readonly version: string;
  readonly at: Date;
  /** The resource as decoded (protobufjs object form, with '@type'). */
  readonly resource: DecodedResource;
}

/** The last rejected version of a resource (cleared when a later version is accepted). */
export interface RejectedRecord {
  readonly name: string;
  /** The version that was rejected. */
  readonly version: string;
  readonly at: Date;
  /** Why, as the NACK said it. */
  readonly details: string;
  readonly resource: DecodedResource;
}

/** One resource type's records. */
export interface TypeHistory {
  /** Version of the last accepted update of the type ('' before the first). */
  readonly version: string;
  readonly accepted: ReadonlyMap<string, AcceptedRecord>;
  readonly rejected: ReadonlyMap<string, RejectedRecord>;
}

interface MutableTypeHistory {
  version: string;
  readonly accepted: Map<string, AcceptedRecord>;
  readonly rejected: Map<string, RejectedRecord>;
}

export class ResourceHistory {
  readonly #types = new Map<string, MutableTypeHistory>();

  #of(typeUrl: string): MutableTypeHistory {
    let t = this.#types.get(typeUrl);
    if (t === undefined) this.#types.set(typeUrl, (t = { version: '', accepted: new Map(), rejected: new Map() }));
    return t;
  }

  /** A resource was accepted: it replaces the previous record and clears its rejection. */
  accept(typeUrl: string, name: string, version: string, resource: DecodedResource): void {
    const t = this.#of(typeUrl);
    t.accepted.set(name, { name, version, at: new Date(), resource });
    t.rejected.delete(name);
  }

  reject(typeUrl: string, name: string, version: string, details: string, resource: DecodedResource): void {
    this.#of(typeUrl).rejected.set(name, { name, version, at: new Date(), details, resource });
  }

  /** The resource is gone (removed by the server, or no longer wanted). */
  forget(typeUrl: string, name: string): void {
    const t = this.#of(typeUrl);
    t.accepted.delete(name);
    t.rejected.delete(name);
  }

  /** An update of the type was accepted (in whole or, for listeners, in part). */
  typeAccepted(typeUrl: string, version: string): void {
    this.#of(typeUrl).version = version;
  }

  view(typeUrl: string): TypeHistory {
    return this.#of(typeUrl);
  }
}
