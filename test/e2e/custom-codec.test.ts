/**
 * A codec package and a filter package, written in plain JavaScript against `meltemi/codec`
 * and `meltemi/filter` and installed beside a `meltemi` dependency the way npm lays them
 * out, loaded by the real `meltemi` command: traffic routed by method across two versions
 * with ids of any length rewritten, and a clear exit for each way a package can be wrong.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiledCli = path.join(here, '..', '..', 'proxy', 'cli.js');
const sourceCli = path.join(here, '..', '..', 'proxy', 'cli.ts');
/** The repository root: `meltemi` as a dependency (dist/ must be built, as `npm test` does). */
const repoRoot = path.resolve(here, '..', '..', ...(existsSync(compiledCli) ? ['..'] : []));

const app = mkdtempSync(path.join(tmpdir(), 'meltemi-custom-codec-'));

// "<id> <word> <text>\n": a request's word is its method; responses say OK or ERR; PING/PONG are heartbeats.
const LINE_CODEC = `
import { CODEC_API_VERSION, CodecError, DelimitedFramer, ErrorType, MessageType, ResponseStatus } from 'meltemi/codec';

class LineCodec {
  constructor(ctx, side) { this.framer = new DelimitedFramer('\\n', ctx.maxFrameSize); this.side = side; }
  decode(reader) {
    const frame = this.framer.next(reader);
    if (frame === undefined || frame instanceof Error) return frame;
    const m = /^(\\d{1,15}) (\\S+)(?: ([^\\n]*))?\\n$/.exec(frame.toString('latin1'));
    if (m === null) return new CodecError('line: malformed line');
    const word = m[2];
    const isResponse = word === 'OK' || word === 'ERR';
    if ((this.side === 'server') === isResponse && word !== 'PING' && word !== 'PONG') return new CodecError('line: wrong direction');
    const meta = new Map([['method', word]]);
    return {
      type: word === 'PING' || word === 'PONG' ? MessageType.Heartbeat : isResponse ? MessageType.Response : MessageType.Request,
      requestId: Number(m[1]), streamId: 0, frame, headerSize: m[1].length + word.length + 1, bodySize: (m[3] ?? '').length,
      status: word === 'ERR' ? ResponseStatus.Error : ResponseStatus.Ok, operationName: word, upstreamKey: '',
      metadata: { get: (k) => meta.get(k), entries: () => meta.entries() },
    };
  }
  // Ids are decimal text: a new id changes the frame's length, so the frame is rebuilt.
  setRequestId(msg, id) {
    msg.frame = Buffer.concat([Buffer.from(String(id)), msg.frame.subarray(msg.frame.indexOf(0x20))]);
    msg.requestId = id;
  }
  encode(msg) { return msg.frame; }
  errorReply(req, type, text) { return Buffer.from(req.requestId + ' ERR ' + ErrorType[type] + ': ' + text.replace(/\\n/g, ' ') + '\\n'); }
  heartbeatReply(req) { return Buffer.from(req.requestId + ' PONG\\n'); }
}

export default {
  name: 'example.codec.line', protocol: 'line', apiVersion: CODEC_API_VERSION,
  createServerCodec: (ctx) => new LineCodec(ctx, 'server'),
  createClientCodec: (ctx) => new LineCodec(ctx, 'client'),
};
`;

const DENY_FILTER = `
import { ErrorType } from 'meltemi/codec';
import { FILTER_API_VERSION, FilterStatus } from 'meltemi/filter';
export const filterFactory = {
  name: 'example.filters.deny', apiVersion: FILTER_API_VERSION,
  create(config) {
    const deny = new Set(config?.methods ?? []);
    const filter = { onRequest(ex) {
      if (!deny.has(ex.metadata.get('method'))) return FilterStatus.Continue;
      ex.sendLocalReply(ErrorType.Unauthorized, 'denied by policy');
      return FilterStatus.Stop;
    } };
    return () => filter;
  },
};
`;

function writePackage(dir: string, name: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.js', dependencies: { meltemi: '*' } }));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
}

// The app's node_modules as `npm install meltemi ./line-codec` leaves it; the filter is a plain folder.
mkdirSync(path.join(app, 'node_modules'), { recursive: true });
symlinkSync(repoRoot, path.join(app, 'node_modules', 'meltemi'), 'dir');
writePackage(path.join(app, 'node_modules', 'meltemi-codec-line'), 'meltemi-codec-line', { 'index.js': LINE_CODEC });
writePackage(path.join(app, 'filters', 'deny'), 'deny-filter', { 'index.js': DENY_FILTER });
writePackage(path.join(app, 'node_modules', 'codec-without-factory'), 'codec-without-factory', { 'index.js': 'export const version = 1;\n' });
writePackage(path.join(app, 'node_modules', 'codec-from-the-future'), 'codec-from-the-future', {
  'index.js': "export default { name: 'example.codec.line', protocol: 'line', apiVersion: 2, createServerCodec() {}, createClientCodec() {} };\n",
});

function meltemi(args: string[]): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  // From source, tsx is resolved here: the child runs in the app folder, which has none.
  const argv = existsSync(compiledCli) ? [compiledCli, ...args] : ['--import', import.meta.resolve('tsx'), sourceCli, ...args];
  const child = spawn(process.execPath, argv, { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MELTEMI_LOG_LEVEL: 'warn' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** A line-protocol server that answers `<id> OK <version>:<method>:<text>`. */
function lineServer(version: string): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let pending = '';
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const [id, method, ...text] = pending.slice(0, nl).split(' ');
        pending = pending.slice(nl + 1);
        socket.write(`${id} OK ${version}:${method}:${text.join(' ')}\n`);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Sends `lines` on one connection (pipelined) and resolves with the replies by id. */
async function exchange(port: number, lines: string[]): Promise<Map<string, string>> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const replies = new Map<string, string>();
  let pending = '';
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        replies.set(line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1));
      }
      if (replies.size === lines.length) resolve();
    });
    socket.write(lines.map((l) => `${l}\n`).join(''));
  });
  socket.destroy();
  return replies;
}

let v1: net.Server;
let v2: net.Server;
before(async () => {
  v1 = await lineServer('v1');
  v2 = await lineServer('v2');
});
after(() => {
  v1.close();
  v2.close();
  rmSync(app, { recursive: true, force: true });
});

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

async function writeBootstrap(file: string, listenerPort: number, meltemiSection?: object): Promise<string> {
  const listener = metaProtocolListener({
    codec: 'example.codec.line',
    protocol: 'line',
    routes: [
      { name: 'beta-on-v2', match: { method: 'beta' }, cluster: 'v2' },
      { name: 'rest-on-v1', matchers: [{ name: 'method', present_match: true }], cluster: 'v1' },
    ],
    extra: { meta_protocol_filters: [{ name: 'example.filters.deny', config: { methods: ['drop'] } }, { name: 'aeraki.meta_protocol.filters.router' }] },
  }) as { address: { socket_address: { port_value: number } } };
  listener.address.socket_address.port_value = listenerPort;
  const doc = bootstrapOf([listener], [staticCluster('v1', [portOf(v1)]), staticCluster('v2', [portOf(v2)])], meltemiSection);
  const p = path.join(app, file);
  writeFileSync(p, JSON.stringify(doc));
  return p;
}

describe('custom codec and filter packages through the meltemi command', () => {
  test('route by method across two versions, with ids of any length, and the filter refusing a method', async () => {
    const port = await freePort();
    // The codec by package name on the command line; the filter by path in the bootstrap.
    const file = await writeBootstrap('run.json', port, { filters: { 'example.filters.deny': './filters/deny' } });
    const run = meltemi(['-c', file, '--codec', 'example.codec.line=meltemi-codec-line']);
    try {
      let replies: Map<string, string> | undefined;
      for (let i = 0; i < 200 && replies === undefined; i++) {
        try {
          replies = await exchange(port, ['7 hello a', '123456789012345 beta b', '8 drop c', '9 PING']);
        } catch {
          if (run.child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(replies !== undefined, `meltemi did not serve:\n${run.output()}`);
      assert.equal(replies.get('7'), 'OK v1:hello:a');
      assert.equal(replies.get('123456789012345'), 'OK v2:beta:b', 'a 15-digit id was rewritten to a short one upstream and restored');
      assert.equal(replies.get('8'), 'ERR Unauthorized: denied by policy');
      assert.equal(replies.get('9'), 'PONG');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  test('packages named in the bootstrap pass --validate', async () => {
    const file = await writeBootstrap('valid.json', 0, { codecs: { 'example.codec.line': 'meltemi-codec-line' }, filters: { 'example.filters.deny': './filters/deny' } });
    const run = meltemi(['-c', file, '--validate']);
    assert.equal(await run.exited, 0, run.output());
    assert.match(run.output(), /valid \(1 listener\(s\), 2 cluster\(s\)\)/);
  });

  const failures: [string, string, RegExp][] = [
    ['a package that is not installed', 'meltemi-codec-absent', /codec 'example\.codec\.line' \(meltemi-codec-absent\): cannot find package 'meltemi-codec-absent' from .*npm install meltemi-codec-absent/],
    ['a package with no codec factory', 'codec-without-factory', /exports no codec factory; expected a default export or a named 'codecFactory'.*\(it exports: version\)/],
    ['a package for another API version', 'codec-from-the-future', /targets codec API version 2, newer than this Meltemi supports \(1\): upgrade Meltemi/],
  ];
  for (const [what, pkg, message] of failures) {
    test(`${what} stops the start with exit 1 and says why`, async () => {
      const file = await writeBootstrap(`${pkg}.json`, 0, { filters: { 'example.filters.deny': './filters/deny' } });
      const run = meltemi(['-c', file, '--codec', `example.codec.line=${pkg}`]);
      assert.equal(await run.exited, 1, run.output());
      assert.match(run.output(), message);
    });
  }
});
