/**
 * GET /config_dump: Envoy's `envoy.admin.v3.ConfigDump`, with Envoy's query parameters and
 * errors (source/server/admin/config_dump_handler.cc):
 * - `?include_eds`: adds the EndpointsConfigDump;
 * - `?name_regex=`: keeps resources whose name the RE2 regex matches in full;
 * - `?resource=<repeated field>`: lists the items of the first section that has that field,
 *   each packed as its own message (e.g. `...ClustersConfigDump.DynamicCluster`);
 * - `?mask=<FieldMask>`: trims each section (or, with `?resource=`, each item) to the paths.
 */
import protobuf from 'protobufjs';
import { compileRegex } from '../../../config/regex.js';
import { bootstrapSection } from './bootstrap-section.js';
import { clustersSection } from './clusters-section.js';
import { endpointsSection } from './endpoints-section.js';
import { maskDebugString, maskPaths, trimResource, trimSection } from './field-mask.js';
import { listenersSection } from './listeners-section.js';
import { messageType, TYPE_URL_PREFIX } from './proto-json.js';
import { envoyRoutesSection, metaRoutesSection } from './routes-section.js';
import { secretsSection } from './secrets-section.js';
import type { DumpSection, NameFilter } from './section.js';
import type { ConfigDumpSource } from './source.js';

type Json = Record<string, unknown>;

export interface DumpAnswer {
  readonly status: number;
  /** JSON (status 200) or a plain-text error. */
  readonly body: string;
  readonly json: boolean;
}

const text = (status: number, body: string): DumpAnswer => ({ status, body: body.endsWith('\n') ? body : `${body}\n`, json: false });

/** Every section, in the order of Envoy's config tracker keys. */
function sections(src: ConfigDumpSource, keep: NameFilter, includeEds: boolean): DumpSection[] {
  const all = [bootstrapSection(src), clustersSection(src, keep), listenersSection(src, keep), metaRoutesSection(src, keep), envoyRoutesSection(), secretsSection(keep)];
  // As in Envoy: endpoints only on request, and only when there is a cluster at all.
  const anyCluster = src.staticClusters().length > 0 || src.dynamicClusters().active.length > 0;
  if (includeEds && anyCluster) all.push(endpointsSection(src, keep));
  return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function nameFilter(regex: string | null): NameFilter | string {
  if (regex === null || regex === '') return () => true;
  try {
    const re = compileRegex(regex, { fullMatch: true });
    return (name) => re.test(name);
  } catch (err) {
    return `INVALID_ARGUMENT: Error while parsing name_regex from ${regex}: ${(err as Error).message}`;
  }
}

function byResource(all: readonly DumpSection[], resource: string, paths: string[] | undefined): DumpAnswer {
  for (const s of all) {
    const field = messageType(s.typeName).fields[resource];
    if (field === undefined) continue;
    if (!field.repeated) return text(400, `${resource} is not a repeated field. Use ?mask=${resource} to get only this field`);
    field.resolve();
    const itemType = field.resolvedType instanceof protobuf.Type ? field.resolvedType.fullName.slice(1) : undefined;
    if (itemType === undefined) return text(400, `${resource} is not a repeated message field`);
    const configs: Json[] = [];
    for (const item of (s.body[resource] as Json[] | undefined) ?? []) {
      const trimmed = paths === undefined ? item : trimResource(itemType, item, paths);
      if (trimmed === undefined) return text(400, `FieldMask ${maskDebugString(paths ?? [])} could not be successfully used.`);
      configs.push({ '@type': TYPE_URL_PREFIX + itemType, ...trimmed });
    }
    return { status: 200, body: JSON.stringify({ configs }, null, 2) + '\n', json: true };
  }
  return text(404, `${resource} not found in config dump`);
}

export function renderConfigDump(src: ConfigDumpSource, query: URLSearchParams): DumpAnswer {
  const keep = nameFilter(query.get('name_regex'));
  if (typeof keep === 'string') return text(400, keep);
  const mask = query.get('mask');
  const paths = mask === null ? undefined : maskPaths(mask);
  const all = sections(src, keep, query.has('include_eds'));
  const resource = query.get('resource');
  if (resource !== null) return byResource(all, resource, paths);
  const configs: Json[] = [];
  for (const s of all) {
    const body = paths === undefined ? s.body : trimSection(s.typeName, s.body, paths);
    // A mask fits some sections and not others: those it does not fit are left out.
    if (body !== undefined) configs.push({ '@type': TYPE_URL_PREFIX + s.typeName, ...body });
  }
  if (configs.length === 0 && mask !== null) return text(400, `FieldMask ${mask} could not be successfully applied to any configs.`);
  return { status: 200, body: JSON.stringify({ configs }, null, 2) + '\n', json: true };
}
