/**
 * The application processes of the mesh tests' pods, run inside a network namespace under
 * an ordinary uid (never 1337, which iptables exempts from capture):
 *
 *   node pod-app.js serve <name>   providers and servers, as the server pod's app: Dubbo
 *                                  v1 on 20880 and v2 on 20881, Thrift (npm thrift, framed
 *                                  binary) on 9090, HTTP on 8080, TCP echo on 7000; prints
 *                                  "ready" when all listen
 *   node pod-app.js client         the client pod's app: reads one JSON command per line on
 *                                  stdin and prints one JSON result per line
 *
 * Commands: {"op":"dubbo","address","version","method","args"} | {"op":"http","url"} |
 * {"op":"echo","host","port","text"} | {"op":"thrift","host","port","text"} |
 * {"op":"connect","host","port"} (bytes until close).
 */
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { createSofaConsumer, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Consumer } from '../peers/dubbo/sofa.js';
import { ThriftRawClient } from '../helpers/thrift-raw-client.js';

/** The parts of npm thrift's protocol objects the Echo processor below uses. */
interface TIn {
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readStructBegin(): void;
  readFieldBegin(): { ftype: number; fid: number };
  readString(): string;
  skip(type: number): void;
  readFieldEnd(): void;
  readStructEnd(): void;
  readMessageEnd(): void;
}
interface TOut {
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeStructBegin(name: string): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeString(s: string): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeStructEnd(): void;
  writeMessageEnd(): void;
  flush(): void;
}
const thrift = createRequire(import.meta.url)('thrift') as {
  createServer(processor: unknown, handler: unknown, options: unknown): net.Server;
  TFramedTransport: unknown;
  TBinaryProtocol: unknown;
};
const T_STOP = 0;
const T_STRING = 11;
const T_REPLY = 2;

/** `string echo(1: string msg)` of the interop peers' echo.thrift, served by npm thrift's framed binary server. */
function echoProcessor(name: string): unknown {
  return class {
    process(input: TIn, output: TOut): void {
      const m = input.readMessageBegin();
      input.readStructBegin();
      let msg = '';
      for (;;) {
        const f = input.readFieldBegin();
        if (f.ftype === T_STOP) break;
        if (f.fid === 1 && f.ftype === T_STRING) msg = input.readString();
        else input.skip(f.ftype);
        input.readFieldEnd();
      }
      input.readStructEnd();
      input.readMessageEnd();
      output.writeMessageBegin(m.fname, T_REPLY, m.rseqid);
      output.writeStructBegin(`${m.fname}_result`);
      output.writeFieldBegin('success', T_STRING, 0);
      output.writeString(`${msg}@${name}`);
      output.writeFieldEnd();
      output.writeFieldStop();
      output.writeStructEnd();
      output.writeMessageEnd();
      output.flush();
    }
  };
}

async function serve(name: string): Promise<void> {
  await startSofaProvider({ name: `${name}-v1`, version: '1.0.0', port: 20880 });
  await startSofaProvider({ name: `${name}-v2`, version: '2.0.0', port: 20881 });
  const web = http.createServer((req, res) => {
    res.end(`http ok from ${name}: ${req.method} ${req.url} from ${req.socket.remoteAddress}`);
  });
  await new Promise<void>((r) => web.listen(8080, '0.0.0.0', r));
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(7000, '0.0.0.0', r));
  const thriftServer = thrift.createServer(echoProcessor(`${name}-thrift`), {}, { transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol });
  await new Promise<void>((r) => thriftServer.listen(9090, '0.0.0.0', () => r()));
  process.stdout.write('ready\n');
}

type Command =
  | { op: 'dubbo'; address: string; version: string; method: string; args: unknown[] }
  | { op: 'http'; url: string }
  | { op: 'echo'; host: string; port: number; text: string }
  | { op: 'thrift'; host: string; port: number; text: string }
  | { op: 'connect'; host: string; port: number };

const consumers = new Map<string, Promise<Consumer>>();

async function run(c: Command): Promise<unknown> {
  switch (c.op) {
    case 'dubbo': {
      const key = `${c.address}|${c.version}`;
      let consumer = consumers.get(key);
      if (consumer === undefined) {
        consumer = createSofaConsumer(c.address, { version: c.version });
        consumers.set(key, consumer);
      }
      return (await consumer).invoke(c.method, c.args, 5000);
    }
    case 'http': {
      const res = await fetch(c.url, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    }
    case 'thrift': {
      const client = await ThriftRawClient.connect(c.port, c.host);
      try {
        return (await client.call('echo', c.text)).text;
      } finally {
        client.close();
      }
    }
    case 'echo':
    case 'connect':
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: c.host, port: c.port, allowHalfOpen: true });
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error('no close within 5 s'));
        }, 5000);
        s.on('data', (b: Buffer) => chunks.push(b));
        s.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        s.on('end', () => s.end());
        s.on('close', () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks).toString());
        });
        if (c.op === 'echo') s.end(c.text);
      });
  }
}

async function client(): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  for await (const line of rl) {
    let out: unknown;
    try {
      out = { ok: true, value: await run(JSON.parse(line) as Command) };
    } catch (err) {
      out = { ok: false, error: (err as Error).message };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
  for (const c of consumers.values()) await (await c).close();
}

const [mode, name] = process.argv.slice(2);
if (mode === 'serve') await serve(name ?? 'server');
else if (mode === 'client') await client();
else {
  console.error('usage: pod-app.js serve <name> | client');
  process.exit(2);
}
