import { packAny, timestamp } from './proto-json.js';
import { compact, errorState } from './section.js';
import type { DumpSection, NameFilter } from './section.js';
import type { ConfigDumpSource } from './source.js';
import { LISTENERS_DUMP } from './type-names.js';

/**
 * Envoy's ListenersConfigDump: bootstrap listeners as static; LDS listeners as dynamic, each
 * with its `active_state` and, when its last update was refused, its `error_state`.
 */
export function listenersSection(src: ConfigDumpSource, keep: NameFilter): DumpSection {
  const dyn = src.dynamicListeners();
  const active = new Map(dyn.active.map((a) => [a.name, a]));
  const rejected = new Map(dyn.rejected.map((r) => [r.name, r]));
  const names = [...new Set([...active.keys(), ...rejected.keys()])].filter(keep).sort();
  const dynamic = names.map((name) => {
    const a = active.get(name);
    const r = rejected.get(name);
    return compact({
      name,
      active_state:
        a === undefined ? undefined : compact({ version_info: a.version, listener: packAny(a.typeName, a.resource), last_updated: timestamp(a.lastUpdated) }),
      error_state: r === undefined ? undefined : errorState(r),
      client_status: r === undefined ? undefined : 'NACKED',
    });
  });
  const statics = src
    .staticListeners()
    .filter((l) => keep(l.name))
    .map((l) => ({ listener: packAny(l.typeName, l.resource), last_updated: timestamp(l.lastUpdated) }));
  return { key: 'listeners', typeName: LISTENERS_DUMP, body: compact({ version_info: dyn.version, static_listeners: statics, dynamic_listeners: dynamic }) };
}
