/** The xDS init manager: INITIALIZING until every watched type answered once, or its timeout passed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BootstrapConfig } from '../../proxy/config/bootstrap-schema.js';
import { InitManager } from '../../proxy/dynamic/init-manager.js';
import type { TypeProgress } from '../../proxy/dynamic/init-manager.js';

const none: TypeProgress = { update_success: 0, update_rejected: 0, does_not_exist: 0 };
const ok: TypeProgress = { ...none, update_success: 1 };

function boot(ldsTimeoutMs?: number, cdsTimeoutMs?: number): BootstrapConfig {
  const src = (t: number | undefined): { ads: object; initial_fetch_timeout?: number } => ({ ads: {}, ...(t !== undefined ? { initial_fetch_timeout: t } : {}) });
  return { dynamic_resources: { lds_config: src(ldsTimeoutMs), cds_config: src(cdsTimeoutMs) } } as BootstrapConfig;
}

test('PRE_INITIALIZING before start, INITIALIZING until LDS and CDS answered, then EDS and MetaRDS once watched', () => {
  const types = new Map<string, TypeProgress>();
  let live = 0;
  const init = new InitManager(boot(0, 0), () => types, () => live++);
  assert.equal(init.state, 'PRE_INITIALIZING');
  init.start();
  init.close();
  assert.equal(init.state, 'INITIALIZING');
  types.set('cds', ok).set('eds', none);
  init.check(1000);
  assert.equal(init.state, 'INITIALIZING', 'LDS has not answered; EDS is watched and has not either');
  types.set('lds', ok).set('rds', none);
  init.check(2000);
  assert.equal(init.state, 'INITIALIZING', 'EDS and MetaRDS still wait (0s: for ever)');
  types.set('eds', ok).set('rds', { ...none, update_rejected: 1 });
  init.check(1e9);
  assert.equal(init.state, 'LIVE', 'a rejected first response ends the wait too, as in Envoy');
  assert.equal(live, 1);
  init.check(2e9);
  assert.equal(live, 1, 'onLive runs once');
});

test('initial_fetch_timeout ends the wait for a type that never answers; unset means 15 s', () => {
  const types = new Map<string, TypeProgress>([['cds', ok]]);
  const timed = new InitManager(boot(500, 0), () => types);
  timed.start();
  timed.close();
  timed.check(Date.now() + 100);
  assert.equal(timed.state, 'INITIALIZING');
  timed.check(Date.now() + 600);
  assert.equal(timed.state, 'LIVE');
  const dflt = new InitManager(boot(undefined, 0), () => types);
  dflt.start();
  dflt.close();
  dflt.check(Date.now() + 14_000);
  assert.equal(dflt.state, 'INITIALIZING');
  dflt.check(Date.now() + 15_500);
  assert.equal(dflt.state, 'LIVE');
});

test('an init target (a listener waiting for its SDS certificates) holds LIVE until it settles', async () => {
  const types = new Map<string, TypeProgress>([
    ['lds', ok],
    ['cds', ok],
  ]);
  const init = new InitManager(boot(0, 0), () => types);
  let release: () => void = () => undefined;
  init.waitFor(new Promise<void>((r) => (release = r)));
  init.start();
  init.close();
  init.check(1e9);
  assert.equal(init.state, 'INITIALIZING', 'every type answered, but a listener still waits for its certificates');
  release();
  await new Promise((r) => setImmediate(r));
  assert.equal(init.state, 'LIVE');
  init.waitFor(new Promise<void>(() => undefined));
  init.check(2e9);
  assert.equal(init.state, 'LIVE', 'a target after LIVE changes nothing');
});

test('a failed init target ends the wait too', async () => {
  const types = new Map<string, TypeProgress>([
    ['lds', ok],
    ['cds', ok],
  ]);
  const init = new InitManager(boot(0, 0), () => types);
  init.waitFor(Promise.reject(new Error('listener could not bind')));
  init.start();
  init.close();
  assert.equal(init.state, 'INITIALIZING');
  await new Promise((r) => setImmediate(r));
  assert.equal(init.state, 'LIVE');
});
