/**
 * The access-log formatter on its own: Envoy commands, REQ/RESP with alternatives and
 * lengths, START_TIME sub-formats, JSON typing, config errors with field paths.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { Message, Metadata } from '../../codecs/api/index.js';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { startMeltemi } from '../../proxy/index.js';
import { AccessLogger, compileJson } from '../../proxy/observability/access-log/access-logger.js';
import { AERAKI_DEFAULT_FORMAT, compileFormat, formatText } from '../../proxy/observability/access-log/format.js';
import type { LogSink } from '../../proxy/observability/access-log/sink.js';
import type { ObservedExchange } from '../../proxy/observability/observed-exchange.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

function metadata(m: Record<string, string>): Metadata {
  return { get: (k) => m[k], entries: () => Object.entries(m) };
}

function message(type: MessageType, md: Record<string, string>, size: number): Message {
  return { type, requestId: 7, streamId: 0, frame: Buffer.alloc(size), headerSize: 16, bodySize: size - 16, status: ResponseStatus.Ok, operationName: 'svc/m', metadata: metadata(md), upstreamKey: '' };
}

/** An ended exchange as the observer sees it (a plain record: the formatter only reads). */
function ended(over: Partial<ObservedExchange> = {}): ObservedExchange {
  const request = message(MessageType.Request, { interface: 'com.example.Demo', method: 'sayHello', 'x-tag': 'abcdefgh' }, 120);
  return {
    request,
    metadata: request.metadata,
    response: message(MessageType.Response, { 'x-resp': 'r1' }, 40),
    startTime: Date.UTC(2022, 11, 21, 3, 13, 21, 56) - performance.timeOrigin,
    localError: undefined,
    abandoned: false,
    routeName: 'default',
    upstreamCluster: 'outbound|20880||demo',
    upstreamHost: '10.0.0.5:20880',
    upstreamClusterStats: undefined,
    downstreamRemoteAddress: '10.244.0.21:44822',
    downstreamLocalAddress: '240.240.0.1:20880',
    responseBytes: 40,
    requestMutation: null,
    trace: undefined,
    setRequestHeader: () => {},
    setResponseHeader: () => {},
    ...over,
  };
}

const ctx = { protocol: 'dubbo' };

test("Aeraki's default format reproduces the documented sample line's shape", () => {
  const line = formatText(compileFormat(AERAKI_DEFAULT_FORMAT), ended(), 522, ctx);
  assert.equal(line, '[2022-12-21T03:13:21.056Z] dubbo 0 - - "-" 40 120 522  "-" "-" outbound|20880||demo - 240.240.0.1:20880 10.244.0.21:44822 default\n');
});

test('local replies: response code 1, details and flags', () => {
  const f = compileFormat('%RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %RESPONSE_FLAGS% %UPSTREAM_HOST%');
  const cases: [Partial<ObservedExchange>, string][] = [
    [{ localError: ErrorType.RouteNotFound, response: undefined, upstreamHost: undefined }, '1 no_matched_route NR -'],
    [{ localError: ErrorType.ClusterNotFound, response: undefined, upstreamHost: undefined }, '1 unknown_cluster NC -'],
    [{ localError: ErrorType.NoHealthyUpstream, response: undefined, upstreamHost: undefined }, '1 no_healthy_upstream UH -'],
    [{ localError: ErrorType.NoHealthyUpstream, response: undefined }, '1 no_healthy_upstream UF 10.0.0.5:20880'],
    [{ localError: ErrorType.Timeout, response: undefined }, '1 upstream_response_timeout UT 10.0.0.5:20880'],
    [{ localError: ErrorType.UpstreamReset, response: undefined }, '1 upstream_reset UC 10.0.0.5:20880'],
    [{ localError: ErrorType.OverLimit, response: undefined, upstreamHost: undefined }, '1 request_rate_limited RL -'],
    [{ abandoned: true, response: undefined }, '1 downstream_remote_disconnect DC 10.0.0.5:20880'],
  ];
  for (const [over, want] of cases) assert.equal(formatText(f, ended(over), 1, ctx), want);
});

test('REQ and RESP: lower-cased keys, X?Y alternatives, :N truncation, - when missing', () => {
  const f = compileFormat('%REQ(INTERFACE)% %REQ(METHOD):3% %REQ(X-NONE?X-TAG):4% %REQ(X-NONE)% %RESP(X-RESP)% %RESP(X-NONE)% %PROTOCOL% %OPERATION_NAME%');
  assert.equal(formatText(f, ended(), 1, ctx), 'com.example.Demo say abcd - r1 - dubbo svc/m');
});

test('REQ also sees what the proxy added to the request (a generated x-request-id)', () => {
  const f = compileFormat('%REQ(X-REQUEST-ID)% %REQ(INTERFACE)%');
  assert.equal(formatText(f, ended({ requestMutation: new Map([['x-request-id', 'id-1'], ['interface', 'mutated']]) }), 1, ctx), 'id-1 com.example.Demo');
});

test('START_TIME with a strftime sub-format', () => {
  const f = compileFormat('%START_TIME(%Y/%m/%d %H:%M:%S.%3f)% %START_TIME(%s)%');
  assert.equal(formatText(f, ended(), 1, ctx), `2022/12/21 03:13:21.056 ${Math.floor(Date.UTC(2022, 11, 21, 3, 13, 21) / 1000)}`);
});

test('an unknown command is a config error naming it, with the field path', () => {
  assert.throws(() => compileFormat('%NOT_A_COMMAND%'), /unknown access log command %NOT_A_COMMAND%/);
  assert.throws(() => compileFormat('%REQ()%'), /needs a metadata key/);
  const doc = bootstrapOf(
    [
      metaProtocolListener({
        routes: [{ name: 'r', cluster: 'c' }],
        extra: { access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', log_format: { text_format: '%DURATON%' } } }] },
      }),
    ],
    [staticCluster('c', [1])],
  );
  assert.throws(() => compileBootstrap(doc), /filters\[0\]\.typed_config\.access_log\[0\]\.typed_config\.log_format: unknown access log command %DURATON%/);
  const noPath = bootstrapOf(
    [metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }], extra: { access_log: [{ typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog' } }] } })],
    [staticCluster('c', [1])],
  );
  assert.throws(() => compileBootstrap(noPath), /access_log\[0\]\.typed_config\.path: required field is missing/);
  const badType = bootstrapOf(
    [metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }], extra: { access_log: [{ typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig' } }] } })],
    [staticCluster('c', [1])],
  );
  assert.throws(() => compileBootstrap(badType), /access_log\[0\]\.typed_config\.@type: expected one of/);
});

test('JSON: one command keeps its type, mixed text stays a string, nested objects, omit_empty_values', () => {
  const lines: string[] = [];
  const sink: LogSink = { write: (l) => void lines.push(l), flush: async () => {}, close: async () => {} };
  const json = compileJson({ code: '%RESPONSE_CODE%', d: '%DURATION%', who: 'from %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', up: { host: '%UPSTREAM_HOST%', flags: '%RESPONSE_FLAGS%' }, missing: '%REQ(X-NONE)%', fixed: 3 });
  new AccessLogger({ path: '-', text: undefined, json, omitEmptyValues: false }, sink, ctx).log(ended(), 12.6);
  new AccessLogger({ path: '-', text: undefined, json, omitEmptyValues: true }, sink, ctx).log(ended(), 12.6);
  assert.deepEqual(JSON.parse(lines[0]!), { code: 0, d: 12, who: 'from 10.244.0.21', up: { host: '10.0.0.5:20880', flags: '-' }, missing: null, fixed: 3 });
  assert.equal('missing' in (JSON.parse(lines[1]!) as object), false);
  assert.ok(lines.every((l) => l.endsWith('\n')));
});

test('a log file that cannot be opened stops the start, naming the path', async () => {
  const doc = bootstrapOf(
    [
      metaProtocolListener({
        routes: [{ name: 'r', cluster: 'c' }],
        extra: { access_log: [{ typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/nonexistent-dir/meltemi/access.log' } }] },
      }),
    ],
    [staticCluster('c', [1])],
  );
  await assert.rejects(startMeltemi(doc), /access log: cannot open '\/nonexistent-dir\/meltemi\/access\.log': ENOENT/);
});
