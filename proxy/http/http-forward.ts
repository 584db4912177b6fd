import type { IncomingMessage, ServerResponse } from 'node:http';
import { Client, Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import type { HttpHost, HttpUpstreamCluster } from './compile-http-listener.js';

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Why a forward produced no upstream response, as Envoy's router would answer it. */
export type ForwardFailure = 'connect' | 'timeout' | 'reset';

/** Envoy's local replies for each failure: status and body text. */
export const FAILURE_REPLY: Readonly<Record<ForwardFailure, { status: number; body: string }>> = {
  connect: { status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure' },
  timeout: { status: 504, body: 'upstream request timeout' },
  reset: { status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination' },
};

function dispatcherFor(h: HttpHost, connectTimeoutMs: number): { origin: string; dispatcher: Dispatcher } {
  if ('socketPath' in h) return { origin: 'http://localhost', dispatcher: new Client('http://localhost', { socketPath: h.socketPath, connect: { timeout: connectTimeoutMs } }) };
  const host = h.host.includes(':') ? `[${h.host}]` : h.host;
  const origin = `http://${host}:${h.port}`;
  return { origin, dispatcher: new Pool(origin, { connections: 4, connect: { timeout: connectTimeoutMs } }) };
}

function failureOf(err: unknown): ForwardFailure {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'timeout';
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'connect';
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'connect';
  return 'reset';
}

/**
 * The upstream side of one static cluster for HTTP routes: a small undici pool per host,
 * hosts taken in turn. One per cluster per HTTP listener.
 */
export class HttpUpstream {
  readonly #hosts: { origin: string; dispatcher: Dispatcher }[];
  #next = 0;

  constructor(cluster: HttpUpstreamCluster) {
    this.#hosts = cluster.hosts.map((h) => dispatcherFor(h, cluster.connectTimeoutMs));
  }

  /**
   * Forwards `req` and streams the answer into `res`. Resolves with the status sent, or the
   * failure when no upstream response came (the caller then sends the local reply).
   */
  async forward(req: IncomingMessage, res: ServerResponse, timeoutMs: number): Promise<number | ForwardFailure> {
    const h = this.#hosts[this.#next++ % this.#hosts.length]!;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await h.dispatcher.request({
        origin: h.origin,
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : null,
        ...(signal !== undefined ? { signal } : {}),
        headersTimeout: timeoutMs > 0 ? timeoutMs : 0,
        bodyTimeout: timeoutMs > 0 ? timeoutMs : 0,
      });
    } catch (err) {
      return signal?.aborted === true ? 'timeout' : failureOf(err);
    }
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    res.writeHead(upstream.statusCode, out);
    try {
      for await (const chunk of upstream.body) res.write(chunk as Buffer);
      res.end();
    } catch {
      // Headers are out: the only honest signal left is to cut the connection.
      res.destroy();
    }
    return upstream.statusCode;
  }

  async close(): Promise<void> {
    await Promise.all(this.#hosts.map((h) => h.dispatcher.destroy().catch(() => undefined)));
  }
}
