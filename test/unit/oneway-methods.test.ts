/** The `codec.config.onewayMethods` declaration: parsing, errors and matching. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_METADATA, MessageType } from '../../codecs/api/index.js';
import type { Message, Metadata } from '../../codecs/api/index.js';
import { OnewayMethods } from '../../proxy/downstream/oneway-methods.js';

function request(md: Record<string, string>): Message {
  const metadata: Metadata = { get: (k) => md[k], entries: () => Object.entries(md) };
  return {
    type: MessageType.Request,
    requestId: 1,
    streamId: 0,
    frame: Buffer.alloc(0),
    headerSize: 0,
    bodySize: 0,
    status: 0,
    operationName: '',
    metadata,
    upstreamKey: '',
  };
}

test('absent or empty: nothing declared, nothing paid', () => {
  const errors: string[] = [];
  assert.equal(OnewayMethods.fromCodecOptions({}, 'p', errors), undefined);
  assert.equal(OnewayMethods.fromCodecOptions({ onewayMethods: [] }, 'p', errors), undefined);
  assert.deepEqual(errors, []);
});

test('anything but a list of non-empty names is an error naming the field', () => {
  for (const bad of ['fire', [1], [''], [' fire'], { fire: true }]) {
    const errors: string[] = [];
    assert.equal(OnewayMethods.fromCodecOptions({ onewayMethods: bad }, 'listeners[0].codec.config.onewayMethods', errors), undefined);
    assert.equal(errors.length, 1, JSON.stringify(bad));
    assert.match(errors[0]!, /^listeners\[0\]\.codec\.config\.onewayMethods: expected a list of method names/);
  }
});

test('plain names match the method; qualified names match service:method', () => {
  const m = OnewayMethods.fromCodecOptions({ onewayMethods: ['fire', 'Logger:log'] }, 'p', [])!;
  assert.equal(m.matches(request({ method: 'fire' })), true);
  assert.equal(m.matches(request({ method: 'fire', service: 'Any' })), true);
  assert.equal(m.matches(request({ method: 'log', service: 'Logger' })), true);
  assert.equal(m.matches(request({ method: 'log', service: 'Other' })), false);
  assert.equal(m.matches(request({ method: 'log' })), false);
  assert.equal(m.matches(request({ method: 'echo' })), false);
  assert.equal(m.matches({ ...request({}), metadata: EMPTY_METADATA }), false);
});
