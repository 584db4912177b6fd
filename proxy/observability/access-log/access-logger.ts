import type { ObservedExchange } from '../observed-exchange.js';
import { AERAKI_DEFAULT_FORMAT, AERAKI_DEFAULT_JSON, compileFormat, formatJsonValue, formatText } from './format.js';
import type { CompiledFormat, LogContext } from './format.js';
import type { LogSink } from './sink.js';

/** A JSON format compiled: each key's format string, or a nested object of them. */
export type CompiledJson = readonly (readonly [string, CompiledFormat | CompiledJson | string | number | boolean | null])[];

/** One access log of a listener, compiled from config (no file opened yet). */
export interface AccessLogSpec {
  /** File path; `/dev/stdout` and `/dev/stderr` for the stream loggers. */
  readonly path: string;
  readonly text: CompiledFormat | undefined;
  readonly json: CompiledJson | undefined;
  readonly omitEmptyValues: boolean;
}

/** Compiles a json_format object; throws on an unknown command. */
export function compileJson(obj: Readonly<Record<string, unknown>>): CompiledJson {
  return Object.entries(obj).map(([k, v]) => {
    if (typeof v === 'string') return [k, compileFormat(v)] as const;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return [k, compileJson(v as Record<string, unknown>)] as const;
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return [k, v] as const;
    throw new Error(`json_format.${k}: expected a string, number, boolean or object`);
  });
}

/** The Aeraki default text format compiled once. */
export const DEFAULT_TEXT_FORMAT = compileFormat(AERAKI_DEFAULT_FORMAT);
export const DEFAULT_JSON_FORMAT = compileJson(AERAKI_DEFAULT_JSON);

function isFormat(v: unknown): v is CompiledFormat {
  return typeof v === 'object' && v !== null && 'commands' in v;
}

function buildJson(spec: CompiledJson, ex: ObservedExchange, ms: number, ctx: LogContext, omitEmpty: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of spec) {
    const value = isFormat(v) ? formatJsonValue(v, ex, ms, ctx) : Array.isArray(v) ? buildJson(v as CompiledJson, ex, ms, ctx, omitEmpty) : v;
    if (omitEmpty && (value === null || value === '')) continue;
    out[k] = value;
  }
  return out;
}

/** Formats each ended exchange and hands the line to its sink. */
export class AccessLogger {
  readonly #spec: AccessLogSpec;
  readonly #sink: LogSink;
  readonly #ctx: LogContext;

  constructor(spec: AccessLogSpec, sink: LogSink, ctx: LogContext) {
    this.#spec = spec;
    this.#sink = sink;
    this.#ctx = ctx;
  }

  log(ex: ObservedExchange, durationMs: number): void {
    const s = this.#spec;
    if (s.json !== undefined) {
      this.#sink.write(JSON.stringify(buildJson(s.json, ex, durationMs, this.#ctx, s.omitEmptyValues)) + '\n');
      return;
    }
    const line = formatText(s.text ?? DEFAULT_TEXT_FORMAT, ex, durationMs, this.#ctx);
    this.#sink.write(line.endsWith('\n') ? line : line + '\n');
  }
}
