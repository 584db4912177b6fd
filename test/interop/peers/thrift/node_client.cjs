'use strict';
// npm thrift Echo client.
// usage: node node_client.cjs <port> <framed|buffered> <binary|compact> '<calls json>' [service] [seq|pipeline]
// calls: [["echo","hi"],["add",1,2],["getPair","bad"],["fire","note"],["fail","boom"]]
// Prints a JSON array with one {"ok":value} or {"error":{...}} per call. `pipeline` issues
// every call at once on the one connection (npm thrift numbers them 1, 2, 3...).
const path = require('node:path');
const thrift = require('./q-shim.cjs');
const Echo = require(path.join(__dirname, 'gen-nodejs', 'Echo.js'));

const [port, transport, protocol, callsJson, service, mode] = process.argv.slice(2);
const calls = JSON.parse(callsJson);
const CALL_TIMEOUT_MS = 5000;

const conn = thrift.createConnection('127.0.0.1', Number(port), {
  transport: transport === 'framed' ? thrift.TFramedTransport : thrift.TBufferedTransport,
  protocol: protocol === 'compact' ? thrift.TCompactProtocol : thrift.TBinaryProtocol,
  connect_timeout: 3000,
});
let connError = null;
conn.on('error', (e) => {
  connError = e;
});
const client = service ? new thrift.Multiplexer().createClient(service, Echo, conn) : thrift.createClient(Echo, conn);

function describe(e) {
  if (e && e.name === 'TApplicationException') return { name: e.name, type: e.type, message: e.message };
  if (e && e.name === 'EchoError') return { name: e.name, message: e.message, code: e.code };
  if (e && typeof e === 'object' && 'code' in e && 'message' in e && !(e instanceof Error)) {
    return { name: 'EchoError', message: e.message, code: e.code };
  }
  return { name: (e && (e.name || e.constructor?.name)) || 'Error', message: String(e && e.message) };
}

function one([method, ...args]) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ error: { name: 'Timeout', message: `${method} timed out` } }), CALL_TIMEOUT_MS);
  });
  const call = Promise.resolve()
    .then(() => client[method](...args))
    .then(
      (v) => ({ ok: v === undefined ? null : v }),
      (e) => ({ error: describe(e) }),
    );
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  await new Promise((resolve, reject) => {
    conn.once('connect', resolve);
    conn.once('error', reject);
  });
  let results;
  if (mode === 'pipeline') results = await Promise.all(calls.map(one));
  else {
    results = [];
    for (const c of calls) results.push(await one(c));
  }
  console.log(JSON.stringify(results));
  conn.end();
  setTimeout(() => process.exit(0), 50);
}
main().catch((e) => {
  console.log(JSON.stringify([{ error: { name: 'ConnectError', message: String(connError ? connError.message : e && e.message) } }]));
  process.exit(1);
});
