import { packAny, timestamp, toProtoJson } from './proto-json.js';
import type { DumpSection } from './section.js';
import type { ConfigDumpSource } from './source.js';
import { BOOTSTRAP, BOOTSTRAP_DUMP } from './type-names.js';

/** Envoy's BootstrapConfigDump: the bootstrap as loaded, with --config-yaml merged in. */
export function bootstrapSection(src: ConfigDumpSource): DumpSection {
  const b = src.bootstrap();
  let bootstrap: Record<string, unknown>;
  try {
    bootstrap = toProtoJson(BOOTSTRAP, b.document);
  } catch {
    // A field the schema cannot read (a type it lacks): shown as written, not dropped.
    const { '@type': _, ...rest } = packAny(BOOTSTRAP, b.document);
    bootstrap = rest;
  }
  return { key: 'bootstrap', typeName: BOOTSTRAP_DUMP, body: { bootstrap, last_updated: timestamp(b.loadedAt) } };
}
