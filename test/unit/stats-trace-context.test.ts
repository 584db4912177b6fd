/** Trace-context propagation (W3C, B3) and Envoy's sampling decision, on their own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../../codecs/api/index.js';
import { extractContext, injectContext, parseB3Single, parseTraceparent } from '../../proxy/observability/tracing/propagation.js';
import { decideSampling, SamplingReason } from '../../proxy/observability/tracing/sampling.js';

const md = (m: Record<string, string>): Metadata => ({ get: (k) => m[k], entries: () => Object.entries(m) });
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

test('traceparent: valid, unsampled, and the malformed ones refused', () => {
  assert.deepEqual(parseTraceparent(`00-${T}-${S}-01`), { traceId: T, spanId: S, sampled: true });
  assert.deepEqual(parseTraceparent(`00-${T}-${S}-00`), { traceId: T, spanId: S, sampled: false });
  assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${S}-01`), undefined);
  assert.equal(parseTraceparent(`00-${T}-${'0'.repeat(16)}-01`), undefined);
  assert.equal(parseTraceparent(`ff-${T}-${S}-01`), undefined);
  assert.equal(parseTraceparent(`00-${T}-${S}-01-extra`), undefined);
  assert.equal(parseTraceparent('garbage'), undefined);
  // A later version may append fields.
  assert.deepEqual(parseTraceparent(`01-${T}-${S}-01-future`), { traceId: T, spanId: S, sampled: true });
});

test('B3: multi keys with 64-bit ids, flags=1 as sampled, and the single header', () => {
  assert.deepEqual(extractContext(md({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': S })), { traceId: `0000000000000000a3ce929d0e0e4736`, spanId: S, sampled: undefined });
  assert.equal(extractContext(md({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': '1' }))?.sampled, true);
  assert.equal(extractContext(md({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '0' }))?.sampled, false);
  assert.deepEqual(parseB3Single(`${T}-${S}-1`), { traceId: T, spanId: S, sampled: true });
  assert.deepEqual(extractContext(md({ b3: `${T}-${S}` })), { traceId: T, spanId: S, sampled: undefined });
  assert.equal(extractContext(md({ b3: '0' })), undefined);
  // traceparent wins over B3 when both are present.
  assert.equal(extractContext(md({ traceparent: `00-${T}-${S}-01`, 'x-b3-traceid': '1'.repeat(32), 'x-b3-spanid': S }))?.traceId, T);
});

test('inject writes W3C and B3 keys for the next hop', () => {
  const out = new Map<string, string>();
  injectContext((k, v) => out.set(k, v), T, S, 'b7ad6b7169203331', true);
  assert.deepEqual(Object.fromEntries(out), {
    traceparent: `00-${T}-${S}-01`,
    'x-b3-traceid': T,
    'x-b3-spanid': S,
    'x-b3-parentspanid': 'b7ad6b7169203331',
    'x-b3-sampled': '1',
  });
});

test("sampling follows Envoy's order: client-forced, service-forced, inherited, random, overall", () => {
  const cfg = { client: 100, random: 10, overall: 100 };
  const r = (v: number) => () => v;
  assert.equal(decideSampling(md({ 'x-client-trace-id': 'x' }), undefined, cfg, r(0.99)), SamplingReason.ClientForced);
  assert.equal(decideSampling(md({ 'x-client-trace-id': 'x' }), undefined, { ...cfg, client: 0 }, r(0.99)), SamplingReason.NotTraceable);
  assert.equal(decideSampling(md({ 'x-envoy-force-trace': 'true' }), undefined, { ...cfg, random: 0 }, r(0.99)), SamplingReason.ServiceForced);
  assert.equal(decideSampling(md({}), { traceId: T, spanId: S, sampled: false }, cfg, r(0)), SamplingReason.NotTraceable);
  assert.equal(decideSampling(md({}), { traceId: T, spanId: S, sampled: true }, { ...cfg, random: 0 }, r(0.99)), SamplingReason.Inherited);
  assert.equal(decideSampling(md({}), undefined, cfg, r(0.05)), SamplingReason.Sampling);
  assert.equal(decideSampling(md({}), undefined, cfg, r(0.15)), SamplingReason.NotTraceable);
  assert.equal(decideSampling(md({}), undefined, { ...cfg, overall: 1 }, r(0.05)), SamplingReason.NotTraceable);
  let traced = 0;
  for (let i = 0; i < 10000; i++) if (decideSampling(md({}), undefined, cfg) !== SamplingReason.NotTraceable) traced++;
  assert.ok(traced > 800 && traced < 1200, `10% of 10000, got ${traced}`);
});
