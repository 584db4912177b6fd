/**
 * What the client needs to know about one kind of resource (Listener, Cluster, Secret...),
 * handed to it by its owner, as grpc-js-xds's XdsResourceType: the client moves bytes,
 * nonces and versions, and calls these to turn a decoded resource into the owner's value.
 * The client itself never interprets a resource beyond its name.
 */
import type { DecodedResource } from './messages.js';

/** The outcome of decoding one resource. */
export type DecodeResult<T> =
  /** A usable value; warnings are logged, not NACKed. */
  | { readonly kind: 'ok'; readonly value: T; readonly warnings?: readonly string[] }
  /** Invalid: every problem becomes part of the NACK's error_detail. */
  | { readonly kind: 'invalid'; readonly errors: readonly string[] }
  /** Valid, but not the owner's business (e.g. an HTTP listener for an RPC proxy): left out, not rejected. */
  | { readonly kind: 'ignored' };

/** What `validate` may look at beyond the resource itself. */
export interface ValidationContext {
  /** The resource's name in the response. */
  readonly name: string;
  /** The names this stream asked for ('*' for a wildcard subscription). */
  readonly subscribed: ReadonlySet<string> | '*';
}

export interface XdsResourceType<T> {
  /** `type.googleapis.com/...`, as in DiscoveryRequest.type_url. */
  readonly typeUrl: string;
  /** Short name for logs, stats and stream keys (`lds`, `cds`, `eds`, `rds`, `sds`). */
  readonly shortName: string;
  /**
   * How a response with some invalid resources is taken. 'all-or-nothing': nothing of it
   * applies. 'per-resource' (Envoy's LDS): the valid ones apply, an invalid one keeps its
   * previous value; the response is NACKed either way.
   */
  readonly acceptance: 'all-or-nothing' | 'per-resource';
  /**
   * True when a delta `removed_resources` entry is not acted on: the resource stays until
   * nothing subscribes to it (Aeraki's MetaRDS client does this with route tables).
   */
  readonly ignoresRemovals?: boolean;
  /** The proto-level reading of one resource: required fields, enums, translation. */
  decode(resource: DecodedResource): DecodeResult<T>;
  /** Checks that need the subscription (e.g. an RDS name nobody asked for); returns the errors. */
  validate(value: T, context: ValidationContext): readonly string[];
  /**
   * Same content? An equal resource re-sent by the control plane keeps the cached value
   * (the very same object), so its owner can tell "unchanged" by identity.
   */
  equal(a: T, b: T): boolean;
}

/**
 * A resource type with its value type erased, for collections of several types. The methods
 * are declared as methods, so any XdsResourceType<T> is one.
 */
export type SomeResourceType = XdsResourceType<unknown>;
