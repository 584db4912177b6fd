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
    // Every response is answered, a resend of a rejected version too (it is validated
    // again: validity can depend on other types, e.g. route names that LDS asks for).
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
    const versions = new Map([...resources.keys()].map((n) => [n, version]));
    if (errors.length === 0) errors.push(...this.applyUpdate(st, { resources, versions, removed: [], full: st.watcher.wildcard }));
    const base = { resource_names: this.#names(st), type_url: typeUrl, response_nonce: st.nonce };
    if (errors.length > 0) {
      this.nack(st, version, version, errors, (error_detail) => ({ ...base, version_info: st.version, error_detail }));
      this.responded(st, false);
      return;
    }
    st.version = version;
    this.accepted(st);
    st.stats.update_success++;
    if (st.watcher.wildcard) {
      st.received.clear();
      for (const n of resources.keys()) st.received.add(n);
    } else {
      for (const n of resources.keys()) if (st.names.has(n)) this.markReceived(st, n);
    }
    this.send({ ...base, version_info: version });
    this.responded(st, true);
  }
}
