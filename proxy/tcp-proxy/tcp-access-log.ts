/**
 * tcp_proxy access logs: one line per connection when it ends, in Envoy's format commands
 * (the subset meaningful for a byte stream). A command Meltemi does not know is refused at
 * config time, never printed as text.
 */
export interface TcpLogRecord {
  readonly startTime: number;
  readonly durationMs: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly downstreamRemote: string;
  readonly downstreamLocal: string;
  readonly upstreamHost: string | undefined;
  readonly upstreamLocal: string | undefined;
  readonly upstreamCluster: string | undefined;
  /** Envoy's response flags: UH no healthy upstream, UF upstream connect failure, NR no route, '-' none. */
  readonly responseFlags: string;
}

/**
 * Envoy's default format (its access log docs) as a TCP connection prints it: the HTTP
 * fields are '-' and the response code 0.
 */
export const DEFAULT_TCP_FORMAT =
  '[%START_TIME%] "- - -" 0 %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "-" "-" "-" "-" "%UPSTREAM_HOST%"\n';

const COMMANDS: Readonly<Record<string, (r: TcpLogRecord) => string>> = {
  START_TIME: (r) => new Date(r.startTime).toISOString(),
  DURATION: (r) => String(Math.round(r.durationMs)),
  BYTES_RECEIVED: (r) => String(r.bytesReceived),
  BYTES_SENT: (r) => String(r.bytesSent),
  DOWNSTREAM_REMOTE_ADDRESS: (r) => r.downstreamRemote,
  DOWNSTREAM_LOCAL_ADDRESS: (r) => r.downstreamLocal,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.downstreamRemote),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (r) => withoutPort(r.downstreamLocal),
  UPSTREAM_HOST: (r) => r.upstreamHost ?? '-',
  UPSTREAM_LOCAL_ADDRESS: (r) => r.upstreamLocal ?? '-',
  UPSTREAM_CLUSTER: (r) => r.upstreamCluster ?? '-',
  RESPONSE_FLAGS: (r) => r.responseFlags,
};

function withoutPort(a: string): string {
  const i = a.lastIndexOf(':');
  return i < 0 ? a : a.slice(0, i);
}

export type TcpLogFormat = (r: TcpLogRecord) => string;

/** Compiles a format string; a string describing the problem when it names an unknown command. */
export function compileTcpFormat(format: string): TcpLogFormat | string {
  const parts: (string | ((r: TcpLogRecord) => string))[] = [];
  // Envoy's command syntax: %NAME%, %NAME(arg)%, %NAME(arg):len%; `%%` is no command.
  const re = /%([A-Z][A-Z0-9_]*)(\([^)]*\))?(:\d+)?%/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    const cmd = m[2] === undefined && m[3] === undefined ? COMMANDS[m[1]!] : undefined;
    if (cmd === undefined) return `unknown access log command %${m[1]}${m[2] ?? ''}${m[3] ?? ''}% for tcp_proxy (known: ${Object.keys(COMMANDS).join(', ')})`;
    parts.push(format.slice(last, m.index), cmd);
    last = m.index + m[0].length;
  }
  parts.push(format.slice(last));
  return (r) => parts.map((p) => (typeof p === 'string' ? p : p(r))).join('');
}
