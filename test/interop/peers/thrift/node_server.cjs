'use strict';
// npm thrift Echo server.
// usage: node node_server.cjs <port> <framed|buffered> <binary|compact> <name> [service,service...]
// With services, a MultiplexedProcessor serves the same handler under each service name.
// Prints {"port":N} once listening (port 0 picks a free port).
const path = require('node:path');
const thrift = require('./q-shim.cjs');
const gen = path.join(__dirname, 'gen-nodejs');
const Echo = require(path.join(gen, 'Echo.js'));
const ttypes = require(path.join(gen, 'echo_types.js'));

const [port, transport, protocol, name, services] = process.argv.slice(2);
if (!name || !['framed', 'buffered'].includes(transport) || !['binary', 'compact'].includes(protocol)) {
  console.error('usage: node_server.cjs <port> <framed|buffered> <binary|compact> <name> [services]');
  process.exit(2);
}

const fired = [];
const handler = {
  echo(msg, cb) {
    if (msg === '!fired') return cb(null, fired.join(','));
    cb(null, `${msg}@${name}`);
  },
  add(a, b, cb) {
    cb(null, a + b);
  },
  getPair(key, cb) {
    if (key === 'bad') return cb(new ttypes.EchoError({ message: 'no such key', code: 42 }));
    cb(null, new ttypes.Pair({ key, value: key.length }));
  },
  fire(note) {
    fired.push(note);
  },
  fail(why, cb) {
    cb(new Error(`undeclared failure: ${why}`));
  },
};

const options = {
  transport: transport === 'framed' ? thrift.TFramedTransport : thrift.TBufferedTransport,
  protocol: protocol === 'compact' ? thrift.TCompactProtocol : thrift.TBinaryProtocol,
};
let server;
if (services) {
  const mp = new thrift.MultiplexedProcessor();
  for (const s of services.split(',')) mp.registerProcessor(s, new Echo.Processor(handler));
  server = thrift.createMultiplexServer(mp, options);
} else {
  server = thrift.createServer(Echo, handler, options);
}
server.on('error', (e) => console.error('server error', e));
server.listen(Number(port), '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
process.on('SIGTERM', () => process.exit(0));
