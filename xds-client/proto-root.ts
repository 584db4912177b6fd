/**
 * The protobuf schema of xDS: Envoy's protos from @grpc/grpc-js-xds's `deps/` folder (used
 * only as a proto source, spec/xds.md §2.1) plus Aeraki's protos re-declared in this repo.
 * Loaded once, lazily, with snake_case field names kept (they match Envoy's YAML).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
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
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
  'google/rpc/status.proto',
  'aeraki/meta_protocol_proxy.proto',
  'aeraki/codecs_and_filters.proto',
  'aeraki/router.proto',
  'aeraki/global_ratelimit.proto',
];

/** Where the Aeraki protos live: next to this file in the source tree, or copied beside dist. */
function aerakiProtoDir(): string {
  const candidates = [path.join(HERE, 'protos'), path.join(HERE, '..', '..', 'xds-client', 'protos')];
  for (const c of candidates) if (fs.existsSync(path.join(c, 'aeraki', 'route.proto'))) return c;
  throw new Error(`Aeraki protos not found (looked in ${candidates.join(', ')})`);
}

function includeDirs(): string[] {
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
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

/** The loaded and resolved schema (about 100 ms the first time). */
export function xdsRoot(): protobuf.Root {
  if (root !== undefined) return root;
  registerStructWrappers();
  const dirs = includeDirs();
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
  root = r;
  return r;
}

/** A message type by its full name, e.g. `envoy.config.listener.v3.Listener`. */
export function xdsType(fullName: string): protobuf.Type {
  return xdsRoot().lookupType(fullName);
}

/** Options for decoded → plain objects: enums as names, 64-bit ints as strings, Any expanded. */
export const TO_OBJECT: protobuf.IConversionOptions = { enums: String, longs: String, bytes: String, json: true, defaults: false, oneofs: false };
