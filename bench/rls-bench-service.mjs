// The rate-limit service for the global-ratelimit bench scenario: a redis-server and the
// test RLS v3 service of the main package (tools/testing/ratelimit, build the root first with
// `npx tsc -p tsconfig.json`), with a limit no bench reaches. Usage: node rls-bench-service.mjs <port>
// On SIGINT/SIGTERM it prints how many calls and hits it answered, then stops.
import { startRedisServer } from '../dist/tools/testing/ratelimit/redis-server.js';
import { startRlsService } from '../dist/tools/testing/ratelimit/rls-service.js';

const port = Number(process.argv[2] ?? 18089);
const redis = await startRedisServer();
const rls = await startRlsService(redis.port, 'bench', [{ key: 'method', requestsPerUnit: 1_000_000_000, unit: 'second' }], port);
console.log(`rate-limit service on 127.0.0.1:${rls.port}, redis on ${redis.port}`);
const stop = async () => {
  const hits = rls.seen.reduce((a, s) => a + s.hits, 0);
  console.log(`RLS calls ${rls.seen.length}, hits (requests checked) ${hits}, calls per request ${(rls.seen.length / Math.max(hits, 1)).toFixed(4)}`);
  await rls.close();
  await redis.kill();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
