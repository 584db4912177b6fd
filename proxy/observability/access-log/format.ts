import { hostname } from 'node:os';
import type { ObservedExchange } from '../observed-exchange.js';
import { responseCode, responseCodeDetails, responseFlags } from '../observed-exchange.js';

/** Aeraki's default text format (spec/metaprotocol.md §8.2), used when none is given. */
export const AERAKI_DEFAULT_FORMAT =
  '[%START_TIME%] %REQ(X-META-PROTOCOL-APPLICATION-PROTOCOL)% %RESPONSE_CODE% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%  "%REQ(X-FORWARDED-FOR)%" "%REQ(X-REQUEST-ID)%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %ROUTE_NAME%\n';

/** Aeraki's default JSON keys, for a JSON log with no format. */
export const AERAKI_DEFAULT_JSON: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  application_protocol: '%REQ(X-META-PROTOCOL-APPLICATION-PROTOCOL)%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  request_id: '%REQ(X-REQUEST-ID)%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
};

/** What a log entry knows besides the exchange. */
export interface LogContext {
  /** The listener's application protocol (`dubbo`, ...). */
  readonly protocol: string;
}

/** One value of an entry: a string, a number, or null when the value is missing ('-' in text). */
export type LogValue = string | number | null;

/** A compiled command: reads one value of an ended exchange. */
type Command = (ex: ObservedExchange, durationMs: number, ctx: LogContext) => LogValue;

/** A compiled format string: literal text between commands. */
export interface CompiledFormat {
  /** literals.length === commands.length + 1 */
  readonly literals: readonly string[];
  readonly commands: readonly Command[];
}

const APP_PROTOCOL_KEY = 'x-meta-protocol-application-protocol';
const HOSTNAME = hostname();

function withoutPort(addr: string | undefined): string | null {
  if (addr === undefined || addr === '') return null;
  const i = addr.lastIndexOf(':');
  return i < 0 ? addr : addr.slice(0, i);
}

function metadataCommand(keys: string[], response: boolean, maxLen: number | undefined): Command {
  const lower = keys.map((k) => k.toLowerCase());
  return (ex, _d, ctx) => {
    const md = response ? ex.response?.metadata : ex.metadata;
    let v: string | undefined;
    for (const k of lower) {
      v = md?.get(k);
      // What the proxy added on the way (a generated x-request-id) counts as the request's.
      if (v === undefined && !response) v = ex.requestMutation?.get(k) ?? (k === APP_PROTOCOL_KEY ? ctx.protocol : undefined);
      if (v !== undefined) break;
    }
    if (v === undefined) return null;
    return maxLen !== undefined && v.length > maxLen ? v.slice(0, maxLen) : v;
  };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Envoy's START_TIME sub-format: the strftime codes access logs use, plus %3f..%9f. */
function startTimeCommand(fmt: string | undefined): Command {
  if (fmt === undefined || fmt === '') return (ex) => new Date(performance.timeOrigin + ex.startTime).toISOString();
  return (ex) => {
    const d = new Date(performance.timeOrigin + ex.startTime);
    return fmt.replace(/%(\d)?([YmdHMSfzsF%])/g, (_m, digits: string | undefined, c: string) => {
      switch (c) {
        case 'Y':
          return String(d.getUTCFullYear());
        case 'm':
          return pad(d.getUTCMonth() + 1);
        case 'd':
          return pad(d.getUTCDate());
        case 'H':
          return pad(d.getUTCHours());
        case 'M':
          return pad(d.getUTCMinutes());
        case 'S':
          return pad(d.getUTCSeconds());
        case 'F':
          return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
        case 's':
          return String(Math.floor(d.getTime() / 1000));
        case 'z':
          return '+0000';
        case 'f':
          return pad(d.getUTCMilliseconds(), 3).padEnd(Number(digits ?? 9), '0').slice(0, Number(digits ?? 9));
        default:
          return '%';
      }
    });
  };
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

/** Commands without arguments. */
const SIMPLE: Readonly<Record<string, Command>> = {
  // Whole milliseconds, truncated as Envoy's duration_cast does.
  DURATION: (_ex, d) => Math.floor(d),
  REQUEST_DURATION: () => 0,
  RESPONSE_DURATION: (ex, d) => (ex.response !== undefined ? Math.floor(d) : null),
  RESPONSE_CODE: (ex) => responseCode(ex),
  RESPONSE_CODE_DETAILS: (ex) => dash(responseCodeDetails(ex)),
  RESPONSE_FLAGS: (ex) => responseFlags(ex),
  CONNECTION_TERMINATION_DETAILS: () => null,
  UPSTREAM_TRANSPORT_FAILURE_REASON: () => null,
  // MetaProtocol swaps the two (spec §8.2): sent = the request, received = the response.
  BYTES_SENT: (ex) => ex.request.frame.length,
  BYTES_RECEIVED: (ex) => ex.responseBytes,
  UPSTREAM_HOST: (ex) => dash(ex.upstreamHost),
  UPSTREAM_CLUSTER: (ex) => dash(ex.upstreamCluster),
  UPSTREAM_LOCAL_ADDRESS: () => null,
  UPSTREAM_REMOTE_ADDRESS: (ex) => dash(ex.upstreamHost),
  DOWNSTREAM_REMOTE_ADDRESS: (ex) => dash(ex.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (ex) => withoutPort(ex.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (ex) => dash(ex.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (ex) => withoutPort(ex.downstreamRemoteAddress),
  DOWNSTREAM_LOCAL_ADDRESS: (ex) => dash(ex.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (ex) => withoutPort(ex.downstreamLocalAddress),
  ROUTE_NAME: (ex) => dash(ex.routeName),
  // Envoy's TLS commands: URI SANs comma-joined; '-' on plaintext or without a client certificate.
  DOWNSTREAM_PEER_URI_SAN: (ex) => dash(ex.connection?.peer?.uriSans.join(',')),
  REQUESTED_SERVER_NAME: (ex) => dash(ex.connection?.requestedServerName),
  PROTOCOL: (_ex, _d, ctx) => ctx.protocol,
  HOSTNAME: () => HOSTNAME,
  REQUEST_ID: (ex) => String(ex.request.requestId),
  OPERATION_NAME: (ex) => dash(ex.request.operationName),
};

/**
 * Compiles an Envoy format string once, at config time. Throws on an unknown command, with
 * its name, so a typo stops the start instead of logging '-' forever.
 */
export function compileFormat(format: string): CompiledFormat {
  const literals: string[] = [];
  const commands: Command[] = [];
  const re = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(format)) !== null) {
    const [whole, name, arg, len] = m as unknown as [string, string, string | undefined, string | undefined];
    literals.push(format.slice(last, m.index));
    last = m.index + whole.length;
    const maxLen = len === undefined ? undefined : Number(len);
    if (name === 'REQ' || name === 'RESP') {
      if (arg === undefined || arg === '') throw new Error(`%${name}(...)% needs a metadata key`);
      commands.push(metadataCommand(arg.split('?'), name === 'RESP', maxLen));
    } else if (name === 'START_TIME') {
      commands.push(startTimeCommand(arg));
    } else {
      const c = SIMPLE[name];
      if (c === undefined) throw new Error(`unknown access log command %${name}%`);
      commands.push(c);
    }
  }
  literals.push(format.slice(last));
  return { literals, commands };
}

/** Formats a text line: missing values print as '-'. */
export function formatText(f: CompiledFormat, ex: ObservedExchange, durationMs: number, ctx: LogContext): string {
  let out = f.literals[0]!;
  const cmds = f.commands;
  for (let i = 0; i < cmds.length; i++) {
    const v = cmds[i]!(ex, durationMs, ctx);
    out += (v === null ? '-' : v) + f.literals[i + 1]!;
  }
  return out;
}

/** Formats one JSON value: a lone command keeps its type (numbers stay numbers, missing is null). */
export function formatJsonValue(f: CompiledFormat, ex: ObservedExchange, durationMs: number, ctx: LogContext): LogValue {
  if (f.commands.length === 1 && f.literals[0] === '' && f.literals[1] === '') return f.commands[0]!(ex, durationMs, ctx);
  return formatText(f, ex, durationMs, ctx);
}
