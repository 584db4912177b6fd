/**
 * safe_regex is RE2 (issue 13 defect 2): linear-time matching, RE2 syntax, and syntax RE2
 * refuses is refused at config time with the field path; the admin /stats filter too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Metadata } from '../../codecs/api/index.js';
import { AdminServer } from '../../proxy/admin/admin-server.js';
import type { AdminSource } from '../../proxy/admin/admin-server.js';
import { compileRegex, regexProblem } from '../../config/regex.js';
import { emptySnapshot } from '../../proxy/observability/stats-snapshot.js';
import { ConfigError, compileBootstrap } from '../../proxy/index.js';
import { compileHeaderMatcher } from '../../config/header-matcher.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

const md = (values: Record<string, string>): Metadata => ({ get: (k) => values[k], entries: () => Object.entries(values) });

function withMatcher(matcher: object): object {
  return bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', matchers: [matcher], cluster: 'c' }] })], [staticCluster('c', [20880])]);
}

function problems(doc: unknown): string[] {
  try {
    compileBootstrap(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

const MATCHER_PATH = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.routes[0].match.metadata[0]';

describe('safe_regex matching is RE2, in linear time', () => {
  test('^(a+)+$ against 30 a and a ! answers at once (a backtracking RegExp takes seconds)', () => {
    const m = compileHeaderMatcher({ name: 'method', safe_regex_match: { regex: '^(a+)+$' } });
    const t0 = performance.now();
    assert.equal(m(md({ method: `${'a'.repeat(30)}!` })), false);
    assert.equal(m(md({ method: 'a'.repeat(30) })), true);
    const ms = performance.now() - t0;
    assert.ok(ms < 200, `took ${ms.toFixed(0)} ms`);
  });

  test('the cost grows linearly: 100k characters of an evil input match within a second', () => {
    const re = compileRegex('(a+)+b', { fullMatch: true });
    const t0 = performance.now();
    assert.equal(re.test('a'.repeat(100_000)), false);
    assert.ok(performance.now() - t0 < 1000);
  });

  test('safe_regex matches the whole value, as Envoy (RE2 FullMatch)', () => {
    const m = compileHeaderMatcher({ name: 'k', safe_regex_match: { regex: 'a|b' } });
    assert.equal(m(md({ k: 'a' })), true);
    assert.equal(m(md({ k: 'ab' })), false, 'the alternation is anchored as a whole');
    assert.equal(m(md({ k: 'xa' })), false);
  });

  test('string_match.safe_regex honours ignore_case', () => {
    const m = compileHeaderMatcher({ name: 'k', string_match: { safe_regex: { regex: 'v[0-9]+' }, ignore_case: true } });
    assert.equal(m(md({ k: 'V12' })), true);
    assert.equal(m(md({ k: 'V12x' })), false);
  });

  test('RE2 syntax that a JavaScript RegExp refuses is accepted: (?P<name>...)', () => {
    assert.deepEqual(problems(withMatcher({ name: 'version', safe_regex_match: { regex: '(?P<major>[0-9]+)\\.x' } })), []);
    const m = compileHeaderMatcher({ name: 'version', safe_regex_match: { regex: '(?P<major>[0-9]+)\\.x' } });
    assert.equal(m(md({ version: '12.x' })), true);
  });
});

describe('regex syntax RE2 refuses is refused at config time, naming the field', () => {
  const cases: [string, string, RegExp][] = [
    ['lookbehind', '(?<=a)b', /lookbehind/],
    ['lookahead', 'a(?=b)', /lookahead/],
    ['a backreference', '(a)\\1', /backreferences/],
    ['a possessive quantifier', 'a++', /invalid nested repetition/],
  ];
  for (const [what, regex, reason] of cases) {
    test(`${what} in safe_regex_match`, () => {
      const p = problems(withMatcher({ name: 'k', safe_regex_match: { regex } }));
      assert.equal(p.length, 1, p.join('\n'));
      assert.ok(p[0]!.startsWith(`${MATCHER_PATH}.safe_regex_match.regex: `), p[0]);
      assert.match(p[0]!, reason);
    });
  }

  test('string_match.safe_regex is checked too', () => {
    const p = problems(withMatcher({ name: 'k', string_match: { safe_regex: { regex: '(?<!x)y' } } }));
    assert.equal(p.length, 1, p.join('\n'));
    assert.ok(p[0]!.startsWith(`${MATCHER_PATH}.string_match.safe_regex.regex: lookbehind`), p[0]);
  });

  test('regexProblem: valid RE2 is fine, a broken group is explained', () => {
    assert.equal(regexProblem('^[a-z]+$'), undefined);
    assert.match(regexProblem('(ab') ?? '', /missing closing \)/);
  });
});

describe('admin /stats?filter= is RE2', () => {
  let admin: AdminServer;
  let base: string;
  before(async () => {
    const snap = emptySnapshot();
    snap.counters['meta_protocol.main.request'] = 3;
    snap.counters['cluster.c.upstream_rq_total'] = 2;
    const source: AdminSource = {
      ready: () => true,
      configDump: () => ({}),
      statsSnapshot: () => snap,
      clusters: () => [],
      serverInfo: () => ({}),
      listeners: () => [],
      memory: () => ({ total: { allocated: 0, heapSize: 0, physical: 0 }, processes: 1 }),
      drainListeners: () => {},
    };
    admin = await AdminServer.start('127.0.0.1', 0, source);
    base = `http://127.0.0.1:${admin.port}`;
  });
  after(() => admin.close());

  test('a lookbehind filter gets a 400 with the reason', async () => {
    const res = await fetch(`${base}/stats?filter=${encodeURIComponent('(?<=cluster)\\.c')}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /invalid filter: .*lookbehind/);
  });

  test('a valid filter searches stat names (not a full match)', async () => {
    const res = await fetch(`${base}/stats?filter=${encodeURIComponent('upstream_rq_(total|active)')}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /cluster\.c\.upstream_rq_total: 2/);
    assert.doesNotMatch(text, /meta_protocol\.main\.request/);
  });
});
