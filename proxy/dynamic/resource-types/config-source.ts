/** ConfigSources named inside resources (an EDS cluster's eds_config, a listener's rds). */
import { configSource } from '../../config/bootstrap-schema.js';
import type { ConfigSourceConfig } from '../../config/bootstrap-schema.js';
import { takeWarnings } from '../../../config/schema.js';
import { isObj } from './plain-object.js';
import type { Obj } from './plain-object.js';

/** Parses a ConfigSource as decoded from a proto or written in a bootstrap, keeping the fields Meltemi reads. */
export function parseConfigSource(raw: unknown, path: string, errors: string[]): ConfigSourceConfig | undefined {
  const cs = configSource.parse(stripUnread(raw), path, errors);
  takeWarnings();
  return cs;
}

/**
 * Keeps the ConfigSource fields Meltemi reads: Envoy fills others (authorities, path
 * sources), and a TypedStruct payload spells them in lowerCamel.
 */
function stripUnread(v: unknown): unknown {
  if (!isObj(v)) return v;
  const out: Obj = {};
  const pick = (snake: string, camel: string): unknown => v[snake] ?? v[camel];
  if (v['ads'] !== undefined) out['ads'] = {};
  const api = pick('api_config_source', 'apiConfigSource');
  if (api !== undefined) out['api_config_source'] = api;
  const rav = pick('resource_api_version', 'resourceApiVersion');
  if (typeof rav === 'string') out['resource_api_version'] = rav;
  const ift = pick('initial_fetch_timeout', 'initialFetchTimeout');
  if (ift !== undefined) out['initial_fetch_timeout'] = ift;
  return out;
}
