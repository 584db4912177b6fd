/**
 * The one regex engine of Meltemi: RE2 syntax and semantics, matched in time linear in the
 * input (Envoy's `safe_regex` is RE2). Every regex taken from config or from an admin query
 * goes through this module, so the engine can be swapped in one place.
 *
 * The engine is `re2js`, a pure-JavaScript port of RE2: it installs from npm with no compiler
 * and no download, and on the route hot path it measured 0.5-6 µs per match, against
 * 12-45 µs for the WebAssembly build `re2-wasm` (whose cost is copying each string into the
 * WebAssembly heap). The native binding `re2` needs a prebuilt binary fetched from outside
 * npm or a C++ toolchain at install time. A JavaScript RegExp is faster still but
 * backtracks: `^(a+)+$` against 30 `a` and a `!` blocks the event loop for seconds.
 */
import { RE2JS } from 're2js';
import { RegexSyntaxError } from './errors.js';

export { RegexSyntaxError };

/** A compiled regex: `test` never throws and runs in time linear in the input. */
export interface RegexMatcher {
  test(input: string): boolean;
}

export interface RegexOptions {
  /** The whole input must match (Envoy's safe_regex matchers); otherwise any part of it (a search). */
  fullMatch?: boolean;
  ignoreCase?: boolean;
}

/** RE2's own messages for these are cryptic ("invalid named capture"): name the feature instead. */
function explain(pattern: string, message: string): string {
  const reason = message.replace(/^error parsing regexp: /, '');
  if (/\(\?<[=!]/.test(pattern)) return `lookbehind ((?<= or (?<!) is not supported by RE2 (${reason})`;
  if (/\(\?[=!]/.test(pattern)) return `lookahead ((?= or (?!) is not supported by RE2 (${reason})`;
  if (/\\[1-9]/.test(pattern)) return `backreferences (\\1 ...) are not supported by RE2 (${reason})`;
  return reason;
}

/** Compiles an RE2 pattern; throws RegexSyntaxError for syntax RE2 does not accept. */
export function compileRegex(pattern: string, opts: RegexOptions = {}): RegexMatcher {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, opts.ignoreCase === true ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    throw new RegexSyntaxError(pattern, explain(pattern, (err as Error).message));
  }
  // testExact/test skip capture groups, which keeps RE2's DFA fast path.
  return opts.fullMatch === true ? { test: (input) => re.testExact(input) } : { test: (input) => re.test(input) };
}

/** Why RE2 rejects `pattern`, or undefined when it is valid (for config validation). */
export function regexProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return explain(pattern, (err as Error).message);
  }
}
