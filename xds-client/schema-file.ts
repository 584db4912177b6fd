/**
 * The xDS schema as one JSON file (protobufjs's Root.toJSON of the loaded protos), written at
 * build time beside the compiled xds-client. An installed package loads its schema from this
 * file, so it needs neither the Envoy protos nor @grpc/grpc-js-xds (their source, a 20+ MB
 * development dependency) at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** dist/xds-client/xds-schema.json (written by scripts/build-xds-schema.mjs). */
export const XDS_SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'xds-schema.json');

/** Writes `root` as the schema file. */
export function writeXdsSchema(root: protobuf.Root, file = XDS_SCHEMA_FILE): void {
  fs.writeFileSync(file, JSON.stringify(root.toJSON({ keepComments: false })));
}

/** The schema read back from the file, resolved; undefined when there is no file. */
export function readXdsSchema(file = XDS_SCHEMA_FILE): protobuf.Root | undefined {
  if (!fs.existsSync(file)) return undefined;
  const root = protobuf.Root.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')) as protobuf.INamespace);
  root.resolveAll();
  return root;
}
