/** Envoy's log level names and `--log-format` patterns (issue 13 defect 9, issue 14 Logs). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENVOY_DEFAULT_LOG_FORMAT, LogFormatError, compileLogPattern, textLineOf } from '../../proxy/log-format.js';
import { pinoLevelOf } from '../../proxy/logger.js';

const at = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();

describe('Envoy log level names', () => {
  test('every Envoy name maps to a level, in any case', () => {
    const want: Record<string, string> = { trace: 'trace', debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', critical: 'fatal', off: 'silent', WARNING: 'warn' };
    for (const [name, level] of Object.entries(want)) assert.equal(pinoLevelOf(name), level, name);
  });

  test('an unknown name is none', () => {
    assert.equal(pinoLevelOf('verbose'), undefined);
  });
});

describe('--log-format patterns', () => {
  test("Envoy's default pattern gives Envoy's line", () => {
    const f = compileLogPattern(ENVOY_DEFAULT_LOG_FORMAT);
    assert.equal(f({ level: 40, time: at, pid: 42, name: 'meltemi', msg: 'hello' }), '[2026-01-02 03:04:05.067][42][warning][meltemi] hello');
  });

  test("the record's own fields follow the message as key=value", () => {
    const f = compileLogPattern('%L %v');
    assert.equal(f({ level: 30, time: at, msg: 'listening', listener: 'in', port: 20880, note: 'two words' }), 'I listening listener=in port=20880 note="two words"');
  });

  test('an error field shows its message', () => {
    const f = compileLogPattern('%v');
    assert.equal(f({ level: 50, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } }), 'failed err="boom"');
  });

  test('%j escapes for JSON, %_ escapes newlines, %% is a percent', () => {
    assert.equal(compileLogPattern('{"m":"%j"} %%')({ msg: 'a "b"\nc' }), '{"m":"a \\"b\\"\\nc"} %');
    assert.equal(compileLogPattern('%_')({ msg: 'a\nb' }), 'a\\nb');
  });

  test('an unsupported flag is refused, naming it and the flags honoured', () => {
    assert.throws(() => compileLogPattern('%Q %v'), (err: unknown) => err instanceof LogFormatError && /%Q is not supported; Meltemi honours %v/.test(err.message));
    assert.throws(() => compileLogPattern('%v %'), LogFormatError);
  });

  test('textLineOf turns a pino JSON line into one text line', () => {
    const f = compileLogPattern('[%l] %v');
    assert.equal(textLineOf(f, '{"level":30,"time":1,"pid":1,"name":"meltemi","msg":"x"}\n'), '[info] x\n');
  });
});
