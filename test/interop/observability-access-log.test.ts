/**
 * Access-log lines written by Meltemi for real Dubbo traffic: success, business error,
 * timeout and no route; Aeraki's default text format, a custom Envoy format and JSON.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer, Provider } from '../peers/dubbo/sofa.js';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-access-log-'));
const defaultLog = path.join(dir, 'default.log');
const customLog = path.join(dir, 'custom.log');
const jsonLog = path.join(dir, 'json.log');

describe('access log', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;
  let consumer: Consumer;

  before(async () => {
    provider = await startSofaProvider({ name: 'p1' });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          metaProtocolListener({
            routes: [
              { name: 'slow', match: { method: 'slow' }, cluster: 'demo', timeout: '0.2s' },
              { name: 'demo', match: { interface: 'com.example.DemoService' }, cluster: 'demo' },
            ],
            extra: {
              access_log: [
                { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: defaultLog } },
                {
                  name: 'envoy.access_loggers.file',
                  typed_config: {
                    '@type': FILE_LOG,
                    path: customLog,
                    log_format: {
                      text_format_source: {
                        inline_string: '%REQ(INTERFACE)%/%REQ(METHOD)% v=%REQ(VERSION)% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% up=%UPSTREAM_HOST% route=%ROUTE_NAME% sent=%BYTES_SENT% recv=%BYTES_RECEIVED% d=%DURATION% from=%DOWNSTREAM_REMOTE_ADDRESS% tag=%REQ(X-MISSING?X-TAG):4%\n',
                      },
                    },
                  },
                },
                {
                  name: 'envoy.access_loggers.file',
                  typed_config: {
                    '@type': FILE_LOG,
                    path: jsonLog,
                    log_format: { json_format: { method: '%REQ(METHOD)%', code: '%RESPONSE_CODE%', details: '%RESPONSE_CODE_DETAILS%', flags: '%RESPONSE_FLAGS%', bytes_sent: '%BYTES_SENT%', route: '%ROUTE_NAME%', start: '%START_TIME%' } },
                  },
                },
              ],
            },
          }),
        ],
        [staticCluster('demo', [provider.port])],
      ),
    );
    consumer = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('main')}`);
    assert.equal(await consumer.invoke('sayHello', [java.String('a')]), 'hello a from p1');
    await assert.rejects(consumer.invoke('boom', []), /boom from p1/);
    const raw = await RawDubboClient.connect(proxy.listenerPort('main'));
    raw.write(dubboRequest({ id: 1, method: 'slow', desc: 'I', args: [1000], attachments: { 'x-tag': 'tagged-value' } }));
    raw.write(dubboRequest({ id: 2, interface: 'com.example.Nope' }));
    await raw.until(() => raw.frames.length === 2, 3000, 'two error replies');
    raw.close();
    await proxy.server.flushObservability();
  });

  after(async () => {
    await consumer.close();
    await proxy.close();
    await provider.close();
  });

  const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

  test("Aeraki's default format when none is given", () => {
    const ls = lines(defaultLog);
    assert.equal(ls.length, 4);
    const iso = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] dubbo /;
    for (const l of ls) assert.match(l, iso);
    const ok = ls.find((l) => / dubbo 0 - - "-" \d+ \d+ \d+ {2}"-" "-" demo - 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ demo$/.test(l));
    assert.ok(ok !== undefined, `a success line in:\n${ls.join('\n')}`);
    assert.ok(ls.some((l) => / dubbo 1 upstream_response_timeout - "-" \d+ \d+ \d+ .* demo - 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ slow$/.test(l)));
    assert.ok(ls.some((l) => / dubbo 1 no_matched_route - "-" \d+ \d+ \d+ {2}"-" "-" - - 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ -$/.test(l)));
  });

  test('a custom format: metadata keys, alternatives, max length, flags, addresses', () => {
    const ls = lines(customLog);
    assert.equal(ls.length, 4);
    const up = `127.0.0.1:${provider.port}`;
    assert.match(ls.find((l) => l.includes('/sayHello'))!, new RegExp(`^com\\.example\\.DemoService/sayHello v=1\\.0\\.0 code=0 flags=- up=${up} route=demo sent=\\d+ recv=\\d+ d=\\d+ from=127\\.0\\.0\\.1:\\d+ tag=-$`));
    assert.match(ls.find((l) => l.includes('/boom'))!, /code=0 flags=- .*route=demo/, 'a business exception is an upstream response (code 0)');
    assert.match(ls.find((l) => l.includes('/slow'))!, new RegExp(`code=1 flags=UT up=${up} route=slow .* d=(1\\d\\d|2\\d\\d|3\\d\\d) .* tag=tagg$`));
    assert.match(ls.find((l) => l.includes('Nope'))!, /code=1 flags=NR up=- route=- /);
  });

  test('JSON format: typed values, null for missing ones', () => {
    const entries = lines(jsonLog).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(entries.length, 4);
    const byMethod = new Map(entries.map((e) => [`${String(e['method'])}:${String(e['route'])}`, e]));
    assert.deepEqual(byMethod.get('sayHello:demo')?.['code'], 0);
    assert.deepEqual(byMethod.get('sayHello:demo')?.['details'], null);
    assert.equal(typeof byMethod.get('sayHello:demo')?.['bytes_sent'], 'number');
    assert.deepEqual(byMethod.get('slow:slow')?.['details'], 'upstream_response_timeout');
    assert.deepEqual(byMethod.get('slow:slow')?.['flags'], 'UT');
    assert.deepEqual(byMethod.get('sayHello:null')?.['flags'], 'NR');
    assert.deepEqual(byMethod.get('sayHello:null')?.['details'], 'no_matched_route');
    for (const e of entries) assert.ok(!Number.isNaN(Date.parse(String(e['start']))));
  });
});
