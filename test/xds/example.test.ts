/** examples/istio-aeraki: the bootstrap template, filled in as the pod does, is a valid xDS bootstrap. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { MeltemiXds } from '../../proxy/dynamic/meltemi-xds.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Source tree or dist/: the example lives next to the sources. */
const candidates = [`${here}../../examples/istio-aeraki/bootstrap.tmpl.yaml`, `${here}../../../examples/istio-aeraki/bootstrap.tmpl.yaml`];

test('the istio-aeraki bootstrap template compiles and asks for ADS', () => {
  const path = candidates.find((p) => {
    try {
      readFileSync(p);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(path !== undefined, 'example found');
  const env: Record<string, string> = { POD_IP: '10.0.0.7', POD_NAME: 'dubbo-consumer', POD_NAMESPACE: 'default', APP_NAME: 'dubbo-consumer', ISTIO_VERSION: '1.22.0', SERVICE_ACCOUNT: 'dubbo-consumer', ISTIO_TOKEN: 'tok' };
  const text = readFileSync(path, 'utf8').replace(/\$\{(\w+)\}/g, (_m, k: string) => env[k] ?? '');
  const config = compileBootstrap(parse(text));
  assert.equal(config.bootstrap.node?.id, 'sidecar~10.0.0.7~dubbo-consumer.default~default.svc.cluster.local');
  assert.equal(config.bootstrap.dynamic_resources?.ads_config?.grpc_services[0]?.envoy_grpc.cluster_name, 'xds-grpc');
  assert.ok(MeltemiXds.wanted(config.bootstrap, config.listeners));
});
