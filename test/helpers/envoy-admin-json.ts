/**
 * Reads admin output strictly with Envoy's admin protos (the project's proto set), through
 * protobufjs's proto3 JSON mapping: a field the proto does not have, a value of the wrong
 * type (a duration as a number, a number as a string field), an enum name that does not
 * exist or an Any whose type the proto set lacks all throw. What decodes here decodes in
 * Envoy's and istioctl's JSON parsers too.
 */
import type protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import { xdsType } from '../../xds-client/proto-root.js';

export function strictDecode(typeName: string, json: unknown): protobuf.Message {
  return protojson.fromJson(xdsType(typeName), json);
}

/** Fetches an admin path and decodes its JSON body strictly as `typeName`. */
export async function fetchStrict(url: string, typeName: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`);
  const json = JSON.parse(body) as Record<string, unknown>;
  strictDecode(typeName, json);
  return json;
}
