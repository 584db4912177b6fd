/**
 * The error registry (config/errors.ts) and docs/errors.md list the same codes, and every
 * class carries its code and its own name: scripts branch on `code`, people read `name`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as errors from '../../config/errors.js';

const { ERROR_CODES, MeltemiError } = errors;
const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/unit -> the repository root (the test runs compiled, from dist/).
const repoRoot = path.resolve(here, '..', '..', here.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

test('docs/errors.md has exactly one row per registered code', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(MELTEMI_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
  assert.equal(new Set(documented).size, documented.length, 'a code documented twice');
});

test('every error class is a MeltemiError with a registered code and its class name', () => {
  const made: InstanceType<typeof MeltemiError>[] = [
    new errors.ConfigError(['a.b: bad'], 'bootstrap'),
    new errors.RegexSyntaxError('(', 'missing )'),
    new errors.ExtensionLoadError('no such package'),
    new errors.LogFormatError('bad flag'),
    new errors.CodecError('bad frame'),
    new errors.CodecError('too big', 'MELTEMI_ERR_FRAME_TOO_LARGE'),
    new errors.ProtobufWireError('truncated varint'),
    new errors.HessianError('bad lead byte'),
    new errors.ConformanceFailure('expected a reply'),
  ];
  for (const err of made) {
    assert.ok(err instanceof Error && err instanceof MeltemiError);
    assert.ok(err.code in ERROR_CODES, `${err.code} is not registered`);
    assert.equal(err.name, err.constructor.name);
  }
  const classes = Object.values(errors).filter((v) => typeof v === 'function' && v !== MeltemiError);
  assert.equal(classes.length, new Set(made.map((e) => e.constructor)).size, 'a class of the registry is not constructed above');
});

test('ConfigError keeps the problems and names them in its message', () => {
  const err = new errors.ConfigError(['listeners[0].address: required', 'clusters[1].name: empty']);
  assert.equal(err.code, 'MELTEMI_ERR_CONFIG');
  assert.deepEqual(err.problems, ['listeners[0].address: required', 'clusters[1].name: empty']);
  assert.match(err.message, /listeners\[0\]\.address: required/);
});
