/**
 * A state-of-the-world xDS stream (ADS `StreamAggregatedResources`, or a per-type service
 * such as MetaRDS's `RouteDiscoveryService/StreamRoutes`). Rules: spec/xds.md §1.4.
 */
import { discoveryRequest, discoveryResponse } from './messages.js';
import type { DecodedResource, DiscoveryRequest, DiscoveryResponse } from './messages.js';
import { XdsStreamBase } from './stream-base.js';
import type { StreamOptions, TypeState } from './stream-base.js';
import { resourceName } from './type-watcher.js';

export class SotwStream extends XdsStreamBase<DiscoveryRequest, DiscoveryResponse> {
  constructor(opts: StreamOptions, method: string) {
    super(opts, method, discoveryRequest(), discoveryResponse());
  }

  protected initialRequest(st: TypeState): DiscoveryRequest {
    return { version_info: st.version, resource_names: this.#names(st), type_url: st.watcher.typeUrl, response_nonce: '' };
  }

  protected namesChangedRequest(st: TypeState): DiscoveryRequest {
    // A new request supersedes the previous one; it carries the latest version and nonce.
    return { version_info: st.version, resource_names: this.#names(st), type_url: st.watcher.typeUrl, response_nonce: st.nonce };
  }

  /** Wildcard types send the legacy empty list, which istiod and go-control-plane both take. */
  #names(st: TypeState): string[] {
    return st.watcher.wildcard ? [] : [...st.names];
  }

  protected handle(resp: DiscoveryResponse): void {
    const typeUrl = resp.type_url ?? '';
    const st = this.types.get(typeUrl);
    if (st === undefined) return;
    this.resetBackoff();
    st.nonce = resp.nonce ?? '';
    st.stats.update_attempt++;
    const version = resp.version_info ?? '';
    // go-control-plane answers a NACK with the same version again: NACK once per version
    // and wait for the next change instead of looping (spec/xds.md §3.3).
    if (st.nackedVersion !== undefined && version === st.nackedVersion) {
      st.stats.update_rejected++;
      return;
    }
    const errors: string[] = [];
    const resources = new Map<string, DecodedResource>();
    for (const res of resp.resources ?? []) {
      const type = res['@type'] ?? res['type_url'];
      if (type !== typeUrl) {
        errors.push(`a resource of type ${String(type)} in a ${typeUrl} response`);
        continue;
      }
      const name = resourceName(res);
      if (name === '') errors.push('a resource without a name');
      else if (resources.has(name)) errors.push(`resource ${name} given twice`);
      else resources.set(name, res);
    }
    if (errors.length === 0) errors.push(...st.watcher.onUpdate({ resources, removed: [], full: st.watcher.wildcard }));
    const base = { resource_names: this.#names(st), type_url: typeUrl, response_nonce: st.nonce };
    if (errors.length > 0) {
      const error_detail = this.recordNack(st, version, errors);
      this.send({ ...base, version_info: st.version, error_detail });
      return;
    }
    st.version = version;
    st.nackedVersion = undefined;
    st.stats.update_success++;
    if (st.watcher.wildcard) {
      st.received.clear();
      for (const n of resources.keys()) st.received.add(n);
    } else {
      for (const n of resources.keys()) if (st.names.has(n)) this.markReceived(st, n);
    }
    this.send({ ...base, version_info: version });
  }
}
