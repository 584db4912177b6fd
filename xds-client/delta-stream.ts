/**
 * An incremental (delta) xDS stream: `DeltaAggregatedResources` or a per-type `Delta*`
 * method. Per-resource versions, `initial_resource_versions` on reconnect,
 * `removed_resources` (spec/xds.md §1.3, §6 item 9).
 */
import { deltaDiscoveryRequest, deltaDiscoveryResponse } from './messages.js';
import type { DecodedResource, DeltaDiscoveryRequest, DeltaDiscoveryResponse } from './messages.js';
import { XdsStreamBase } from './stream-base.js';
import type { StreamOptions, TypeState } from './stream-base.js';

export class DeltaStream extends XdsStreamBase<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  constructor(opts: StreamOptions, method: string) {
    super(opts, method, deltaDiscoveryRequest(), deltaDiscoveryResponse());
  }

  protected initialRequest(st: TypeState): DeltaDiscoveryRequest {
    return {
      type_url: st.watcher.typeUrl,
      // Wildcard: the explicit "*" (an empty first list means the same to older servers).
      resource_names_subscribe: st.watcher.wildcard ? ['*'] : [...st.names],
      initial_resource_versions: Object.fromEntries(st.resourceVersions),
    };
  }

  protected namesChangedRequest(st: TypeState, added: string[], removed: string[]): DeltaDiscoveryRequest {
    return { type_url: st.watcher.typeUrl, resource_names_subscribe: added, resource_names_unsubscribe: removed };
  }

  protected handle(resp: DeltaDiscoveryResponse): void {
    const typeUrl = resp.type_url ?? '';
    const st = this.types.get(typeUrl);
    if (st === undefined) return;
    this.resetBackoff();
    st.nonce = resp.nonce ?? '';
    st.stats.update_attempt++;
    const errors: string[] = [];
    const resources = new Map<string, DecodedResource>();
    const versions = new Map<string, string>();
    for (const r of resp.resources ?? []) {
      const res = r.resource;
      const name = r.name ?? '';
      const type = res?.['@type'] ?? res?.['type_url'];
      if (res === undefined || type !== typeUrl) {
        errors.push(`resource ${name}: type ${String(type)} in a ${typeUrl} response`);
        continue;
      }
      if (name === '') errors.push('a resource without a name');
      resources.set(name, res);
      versions.set(name, r.version ?? '');
    }
    const removed = (resp.removed_resources ?? []).filter((n) => st.watcher.wildcard || st.names.has(n));
    if (errors.length === 0) errors.push(...this.applyUpdate(st, { resources, versions, removed, full: false }));
    if (errors.length > 0) {
      // A resend of the same rejected resources is NACKed after a back-off, as in SotW.
      const key = rejectedKey(versions, resp.removed_resources ?? []);
      const nonce = st.nonce;
      this.nack(st, key, resp.system_version_info ?? '', errors, (error_detail) => ({ type_url: typeUrl, response_nonce: nonce, error_detail }));
      this.responded(st, false);
      return;
    }
    st.stats.update_success++;
    this.accepted(st);
    for (const [n, v] of versions) {
      st.resourceVersions.set(n, v);
      this.markReceived(st, n);
    }
    for (const n of removed) this.markRemoved(st, n);
    this.send({ type_url: typeUrl, response_nonce: st.nonce });
    this.responded(st, true);
  }
}

/** What a delta response carried (names, versions, removals): equal for a resend of it. */
function rejectedKey(versions: ReadonlyMap<string, string>, removed: readonly string[]): string {
  const parts = [...versions].map(([n, v]) => `${n}@${v}`).sort();
  return JSON.stringify([parts, [...removed].sort()]);
}
