import type { Infer } from './schema.js';
import type { stringMatcher } from './matchers.js';
import { compileRegex } from './regex.js';

export type StringMatcherConfig = Infer<typeof stringMatcher>;

/**
 * A compiled Envoy StringMatcher. As in Envoy, `ignore_case` applies to exact, prefix, suffix
 * and contains, not to `safe_regex` (which says `(?i)` itself when it wants to), and the
 * regex must match the whole value. A matcher with no kind set is refused: Envoy's oneof is
 * required.
 */
export function compileStringMatcher(m: StringMatcherConfig): (value: string) => boolean {
  const ic = m.ignore_case === true;
  const norm = ic ? (x: string): string => x.toLowerCase() : (x: string): string => x;
  if (m.exact !== undefined) {
    const want = norm(m.exact);
    return (v) => norm(v) === want;
  }
  if (m.prefix !== undefined) {
    const want = norm(m.prefix);
    return (v) => norm(v).startsWith(want);
  }
  if (m.suffix !== undefined) {
    const want = norm(m.suffix);
    return (v) => norm(v).endsWith(want);
  }
  if (m.contains !== undefined) {
    const want = norm(m.contains);
    return (v) => norm(v).includes(want);
  }
  if (m.safe_regex !== undefined) {
    const re = compileRegex(m.safe_regex.regex, { fullMatch: true });
    return (v) => re.test(v);
  }
  throw new Error('a StringMatcher needs one of exact, prefix, suffix, contains, safe_regex');
}
