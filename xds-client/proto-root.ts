/**
 * The protobuf schema of xDS: Envoy's protos from @grpc/grpc-js-xds's `deps/` folder (used
 * only as a proto source, spec/xds.md §2.1) plus Aeraki's protos re-declared in this repo.
 * Loaded once, lazily, with snake_case field names kept (they match Envoy's YAML).
 * @grpc/grpc-js-xds is a development dependency: an installed package, which does not have
 * it, reads the same schema from the JSON file the build writes (schema-file.ts).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { readXdsSchema } from './schema-file.js';
import { registerStructWrappers } from './struct-json.js';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const ROOT_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  'google/rpc/status.proto',
  'aeraki/meta_protocol_proxy.proto',
  'aeraki/codecs_and_filters.proto',
  'aeraki/router.proto',
  'aeraki/global_ratelimit.proto',
  // The admin's shapes: /config_dump (the bootstrap comes with it), /server_info, /certs.
  'envoy/admin/v3/config_dump.proto',
  'envoy/admin/v3/server_info.proto',
  'envoy/admin/v3/certs.proto',
  'aeraki/admin.proto',
  // What Istio's rendered bootstrap carries (test/fixtures/istio), so /config_dump prints it
  // in canonical form: the 15090/15021 HTTP listeners, tracing, access log, overload.
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto',
];

/** Where the Aeraki protos live: next to this file in the source tree, or copied beside dist. */
function aerakiProtoDir(): string {
  const candidates = [path.join(HERE, 'protos'), path.join(HERE, '..', '..', 'xds-client', 'protos')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'aeraki', 'route.proto'))) return c;
  throw new Error(`Aeraki protos not found (looked in ${candidates.join(', ')})`);
}

/** The folder of @grpc/grpc-js-xds's protos; undefined where it is not installed. */
function envoyProtoDeps(): string | undefined {
  try {
    return path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  } catch {
    return undefined;
  }
}

function includeDirs(deps: string): string[] {
  const pbjs = path.dirname(require.resolve('protobufjs/package.json'));
  return [
    aerakiProtoDir(),
    path.join(deps, 'envoy-api'),
    path.join(deps, 'xds'),
    path.join(deps, 'googleapis'),
    path.join(deps, 'protoc-gen-validate'),
    pbjs,
  ];
}

let root: protobuf.Root | undefined;

/**
 * The loaded and resolved schema (about 100 ms the first time): from the protos where they
 * are installed (a checkout: always current), else from the schema file the build wrote.
 */
export function xdsRoot(): protobuf.Root {
  if (root !== undefined) return root;
  registerStructWrappers();
  const deps = envoyProtoDeps();
  const r = deps === undefined ? readXdsSchema() : loadXdsProtos(deps);
  if (r === undefined) {
    throw new Error('xDS schema not found: neither @grpc/grpc-js-xds (a development dependency) nor the built xds-schema.json is installed');
  }
  root = r;
  return r;
}

/** The schema parsed from the .proto files (what the build writes to the schema file). */
export function loadXdsProtos(deps: string | undefined = envoyProtoDeps()): protobuf.Root {
  if (deps === undefined) throw new Error('@grpc/grpc-js-xds is not installed: the Envoy protos come from it');
  registerStructWrappers();
  const dirs = includeDirs(deps);
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string): string | null => {
    if (path.isAbsolute(target) && fs.existsSync(target)) return target;
    for (const d of dirs) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    // protobufjs has google/protobuf/{any,duration,struct,...} built in.
    return target;
  };
  r.loadSync(ROOT_FILES, { keepCase: true });
  r.resolveAll();
  return r;
}

/** A message type by its full name, e.g. `envoy.config.listener.v3.Listener`. */
export function xdsType(fullName: string): protobuf.Type {
  return xdsRoot().lookupType(fullName);
}

/** Options for decoded → plain objects: enums as names, 64-bit ints as strings, Any expanded. */
export const TO_OBJECT: protobuf.IConversionOptions = { enums: String, longs: String, bytes: String, json: true, defaults: false, oneofs: false };
