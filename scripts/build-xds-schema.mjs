#!/usr/bin/env node
// Writes dist/xds-client/xds-schema.json from the xDS protos (after tsc), so the installed
// package reads its xDS schema from one file and needs no @grpc/grpc-js-xds at run time.
// Run by `npm run build` and `prepare` (so `npm pack` ships it).
import { loadXdsProtos } from '../dist/xds-client/proto-root.js';
import { XDS_SCHEMA_FILE, writeXdsSchema } from '../dist/xds-client/schema-file.js';

writeXdsSchema(loadXdsProtos());
console.log(`xDS schema written to ${XDS_SCHEMA_FILE}`);
