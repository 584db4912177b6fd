/**
 * A small rate-limit service for the tests, standing in for envoyproxy/ratelimit (which
 * production users run): Envoy's RLS v3 (`envoy.service.ratelimit.v3.RateLimitService`)
 * over grpc-js, with the messages from Envoy's own rls.proto (through protobufjs, so the
 * filter's hand-written encoding is checked by an independent decoder), counting in a real
 * Redis with envoyproxy/ratelimit's fixed-window scheme:
 *
 *   - each descriptor of a request with a configured limit has one counter per window:
 *     key `<domain>_<key1>_<value1>[_<key2>_<value2>...]_<windowStart>`, where windowStart is
 *     the current time in seconds rounded down to the limit's unit (1 s, 60 s, ...);
 *   - the service runs `INCRBY key hits_addend` (hits_addend 0 means 1) then `EXPIRE key
 *     <unit seconds>`, pipelined;
 *   - a descriptor is OVER_LIMIT when its count after the increment exceeds
 *     requests_per_unit (limit_remaining 0), OK otherwise (limit_remaining = limit - count);
 *     the overall code is OVER_LIMIT when any descriptor is over;
 *   - a descriptor without a configured limit is OK and is not counted;
 *   - Redis failing gives the caller a gRPC UNAVAILABLE error, as envoyproxy/ratelimit's
 *     redis errors surface.
 *
 * Test hooks: a delay before answering (a slow service), kill (the server goes away),
 * and a log of the descriptors and hits it was asked about.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { RespClient } from './resp-client.js';

const require = createRequire(import.meta.url);

/** Envoy's RateLimitRequest and RateLimitResponse, from Envoy's rls.proto. */
export function rlsTypes(): { request: protobuf.Type; response: protobuf.Type } {
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const dirs = [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d)), path.dirname(require.resolve('protobufjs/package.json'))];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const d of dirs) if (fs.existsSync(path.join(d, target))) return path.join(d, target);
    return target;
  };
  root.loadSync('envoy/service/ratelimit/v3/rls.proto', { keepCase: true });
  root.resolveAll();
  return {
    request: root.lookupType('envoy.service.ratelimit.v3.RateLimitRequest'),
    response: root.lookupType('envoy.service.ratelimit.v3.RateLimitResponse'),
  };
}

/** The grpc-js service definition of RLS v3 `ShouldRateLimit`, encoded with Envoy's protos. */
export function rlsServiceDefinition(): ServiceDefinition {
  const types = rlsTypes();
  return {
    ShouldRateLimit: {
      path: '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => Buffer.from(types.request.encode(types.request.fromObject(v as object)).finish()),
      requestDeserialize: (b: Buffer) => types.request.toObject(types.request.decode(b), { longs: Number }),
      responseSerialize: (v: unknown) => Buffer.from(types.response.encode(types.response.fromObject(v as object)).finish()),
      responseDeserialize: (b: Buffer) => types.response.toObject(types.response.decode(b)),
    },
  };
}

export type Unit = 'second' | 'minute';
const UNIT_SECONDS: Record<Unit, number> = { second: 1, minute: 60 };
const UNIT_ENUM: Record<Unit, number> = { second: 1, minute: 2 };

/** A limit on one descriptor entry (`key`, and `value` or any value). */
export interface LimitRule {
  readonly key: string;
  readonly value?: string;
  readonly requestsPerUnit: number;
  readonly unit: Unit;
}

export interface SeenRequest {
  readonly domain: string;
  readonly descriptors: { key: string; value: string }[][];
  readonly hits: number;
}

export interface RlsService {
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Hits answered OK, by window start (seconds), over every limited descriptor. */
  readonly allowedByWindow: Map<number, number>;
  /** Milliseconds to wait before answering (0: none). */
  delayMs: number;
  kill(): void;
  close(): Promise<void>;
}

interface DecodedRequest {
  domain?: string;
  descriptors?: { entries?: { key?: string; value?: string }[] }[];
  hits_addend?: number;
}

export async function startRlsService(redisPort: number, domain: string, rules: readonly LimitRule[], port = 0): Promise<RlsService> {
  let redis: RespClient | undefined;
  const redisClient = async (): Promise<RespClient> => {
    if (redis === undefined || redis.closed) redis = await RespClient.connect(redisPort);
    return redis;
  };
  const seen: SeenRequest[] = [];
  const allowedByWindow = new Map<number, number>();
  const server = new Server();
  const svc: RlsService = {
    port: 0,
    seen,
    allowedByWindow,
    delayMs: 0,
    kill: () => server.forceShutdown(),
    close: async () => {
      redis?.close();
      server.forceShutdown();
    },
  };

  async function decide(req: DecodedRequest): Promise<object> {
    const hits = req.hits_addend === undefined || req.hits_addend === 0 ? 1 : req.hits_addend;
    const descriptors = (req.descriptors ?? []).map((d) => (d.entries ?? []).map((e) => ({ key: e.key ?? '', value: e.value ?? '' })));
    seen.push({ domain: req.domain ?? '', descriptors, hits });
    const now = Math.floor(Date.now() / 1000);
    const statuses: object[] = [];
    let over = false;
    const windows: number[] = [];
    const r = await redisClient();
    for (const entries of descriptors) {
      const last = entries[entries.length - 1];
      const rule = req.domain === domain && last !== undefined ? rules.find((x) => x.key === last.key && (x.value === undefined || x.value === last.value)) : undefined;
      if (rule === undefined) {
        statuses.push({ code: 1 });
        continue;
      }
      const unit = UNIT_SECONDS[rule.unit];
      const window = Math.floor(now / unit) * unit;
      const key = `${req.domain}_${entries.map((e) => `${e.key}_${e.value}`).join('_')}_${window}`;
      const [count] = await Promise.all([r.command(['INCRBY', key, String(hits)]), r.command(['EXPIRE', key, String(unit)])]);
      const n = Number(count);
      const isOver = n > rule.requestsPerUnit;
      windows.push(window);
      over ||= isOver;
      statuses.push({
        code: isOver ? 2 : 1,
        current_limit: { requests_per_unit: rule.requestsPerUnit, unit: UNIT_ENUM[rule.unit] },
        limit_remaining: isOver ? 0 : rule.requestsPerUnit - n,
      });
    }
    if (!over) for (const w of windows) allowedByWindow.set(w, (allowedByWindow.get(w) ?? 0) + hits);
    return { overall_code: over ? 2 : 1, statuses };
  }

  server.addService(
    rlsServiceDefinition(),
    {
      ShouldRateLimit: (call: ServerUnaryCall<DecodedRequest, object>, cb: sendUnaryData<object>) => {
        const answer = (): void => {
          decide(call.request).then(
            (resp) => cb(null, resp),
            (err: unknown) => cb({ code: status.UNAVAILABLE, details: `rate limit service: ${(err as Error).message}` } as ServiceError),
          );
        };
        if (svc.delayMs > 0) setTimeout(answer, svc.delayMs);
        else answer();
      },
    },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  (svc as { port: number }).port = bound;
  return svc;
}
