/**
 * DiscoveryRequest/Response (SotW and delta) as plain objects, and their gRPC
 * (de)serializers. Field names and numbers: spec/xds.md §1.3.
 */
import { TO_OBJECT, xdsType } from './proto-root.js';

/** google.rpc.Status, as sent in a NACK's error_detail. */
export interface RpcStatus {
  code: number;
  message: string;
}

export interface DiscoveryRequest {
  version_info?: string;
  node?: object;
  resource_names?: string[];
  type_url: string;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

/** A resource as decoded from its Any: its fields, plus '@type' (or type_url/value when the type is unknown). */
export type DecodedResource = Record<string, unknown>;

export interface DiscoveryResponse {
  version_info?: string;
  resources?: DecodedResource[];
  type_url?: string;
  nonce?: string;
}

export interface DeltaDiscoveryRequest {
  node?: object;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DeltaResource {
  name?: string;
  version?: string;
  resource?: DecodedResource;
}

export interface DeltaDiscoveryResponse {
  system_version_info?: string;
  resources?: DeltaResource[];
  type_url?: string;
  removed_resources?: string[];
  nonce?: string;
}

/** Serializer and deserializer of one message type for grpc-js. */
export interface MessageCodec<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}

function codecOf<T>(fullName: string): MessageCodec<T> {
  const type = xdsType(fullName);
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT) as T,
  };
}

export const discoveryRequest = (): MessageCodec<DiscoveryRequest> => codecOf('envoy.service.discovery.v3.DiscoveryRequest');
export const discoveryResponse = (): MessageCodec<DiscoveryResponse> => codecOf('envoy.service.discovery.v3.DiscoveryResponse');
export const deltaDiscoveryRequest = (): MessageCodec<DeltaDiscoveryRequest> => codecOf('envoy.service.discovery.v3.DeltaDiscoveryRequest');
export const deltaDiscoveryResponse = (): MessageCodec<DeltaDiscoveryResponse> => codecOf('envoy.service.discovery.v3.DeltaDiscoveryResponse');

/** gRPC status codes used in NACKs (google.rpc.Code). */
export const INVALID_ARGUMENT = 3;
