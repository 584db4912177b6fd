/**
 * The xDS schema file the build writes (dist/xds-client/xds-schema.json) is what an installed
 * package decodes xDS with, instead of the Envoy protos of @grpc/grpc-js-xds (a development
 * dependency). It must describe exactly what the protos do, and be current in the build.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type protobuf from 'protobufjs';
import { TO_OBJECT, loadXdsProtos } from '../../xds-client/proto-root.js';
import { XDS_SCHEMA_FILE, readXdsSchema, writeXdsSchema } from '../../xds-client/schema-file.js';
import { cla, metaRds, mppListener, staticXdsCluster } from '../../tools/testing/xds-resources.js';

const fromProtos = loadXdsProtos();
const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-xds-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function schemaOf(root: protobuf.Root): string {
  return JSON.stringify(root.toJSON({ keepComments: false }));
}

/** Encodes with one schema, decodes with the other: the plain object each side reads. */
function roundTrip(resource: Record<string, unknown>, writer: protobuf.Root, reader: protobuf.Root): Record<string, unknown> {
  const { '@type': typeUrl, ...fields } = resource;
  const name = String(typeUrl).slice(String(typeUrl).lastIndexOf('/') + 1);
  const bytes = writer.lookupType(name).encode(writer.lookupType(name).fromObject(fields)).finish();
  const type = reader.lookupType(name);
  return type.toObject(type.decode(bytes), TO_OBJECT);
}

describe('xDS schema file', () => {
  test('written and read back, it is the schema of the protos', () => {
    const file = path.join(dir, 'schema.json');
    writeXdsSchema(fromProtos, file);
    const fromFile = readXdsSchema(file);
    assert.ok(fromFile !== undefined);
    assert.equal(schemaOf(fromFile), schemaOf(fromProtos));
  });

  test('resources (typed configs in Any and TypedStruct included) decode the same with either schema', () => {
    const file = path.join(dir, 'schema.json');
    writeXdsSchema(fromProtos, file);
    const fromFile = readXdsSchema(file)!;
    const resources = [
      mppListener('l1', { rds: 'r1' }),
      mppListener('l2', { typedStruct: true, inlineCluster: 'v2' }),
      metaRds('r1', [{ name: 'a', match: { method: 'plus' }, weighted: { v1: 90, v2: 10 }, requestMutation: { x: 'y' } }]),
      staticXdsCluster('c1', [9001, 9002]),
      cla('c1', [9001]),
    ];
    for (const r of resources) {
      const expected = roundTrip(r, fromProtos, fromProtos);
      assert.ok(Object.keys(expected).length > 1, `${String(r['name'])} decodes to something`);
      assert.deepEqual(roundTrip(r, fromProtos, fromFile), expected, String(r['name']));
      assert.deepEqual(roundTrip(r, fromFile, fromProtos), expected, String(r['name']));
    }
  });

  test('the built schema file (npm run build, npm pack) is current', () => {
    const built = readXdsSchema(XDS_SCHEMA_FILE);
    assert.ok(built !== undefined, `${XDS_SCHEMA_FILE} is missing: \`npm run build\` writes it`);
    assert.equal(schemaOf(built), schemaOf(fromProtos), `${XDS_SCHEMA_FILE} is stale: run \`npm run build\``);
  });
});
