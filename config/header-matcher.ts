import type { Metadata } from '../codecs/api/index.js';
import type { HeaderMatcherConfig } from './matchers.js';
import { compileRegex } from './regex.js';

/** A compiled Envoy HeaderMatcher over lower-cased metadata keys (spec/metaprotocol.md §6.1). */
export type MetadataPredicate = (metadata: Metadata) => boolean;

function stringTest(m: HeaderMatcherConfig): ((value: string) => boolean) | 'present' {
  if (m.exact_match !== undefined) {
    const want = m.exact_match;
    return (v) => v === want;
  }
  if (m.prefix_match !== undefined) {
    const want = m.prefix_match;
    return (v) => v.startsWith(want);
  }
  if (m.suffix_match !== undefined) {
    const want = m.suffix_match;
    return (v) => v.endsWith(want);
  }
  if (m.contains_match !== undefined) {
    const want = m.contains_match;
    return (v) => v.includes(want);
  }
  if (m.safe_regex_match !== undefined) {
    // Envoy's safe_regex matchers match the whole value (RE2 FullMatch).
    const re = compileRegex(m.safe_regex_match.regex, { fullMatch: true });
    return (v) => re.test(v);
  }
  if (m.range_match !== undefined) {
    const { start, end } = m.range_match;
    return (v) => {
      if (!/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  }
  if (m.string_match !== undefined) {
    const s = m.string_match;
    const ic = s.ignore_case === true;
    const norm = (x: string): string => (ic ? x.toLowerCase() : x);
    if (s.exact !== undefined) {
      const want = norm(s.exact);
      return (v) => norm(v) === want;
    }
    if (s.prefix !== undefined) {
      const want = norm(s.prefix);
      return (v) => norm(v).startsWith(want);
    }
    if (s.suffix !== undefined) {
      const want = norm(s.suffix);
      return (v) => norm(v).endsWith(want);
    }
    if (s.contains !== undefined) {
      const want = norm(s.contains);
      return (v) => norm(v).includes(want);
    }
    if (s.safe_regex !== undefined) {
      const re = compileRegex(s.safe_regex.regex, { fullMatch: true, ignoreCase: ic });
      return (v) => re.test(v);
    }
    return () => true;
  }
  if (m.present_match !== undefined) return 'present';
  // No match specifier: Envoy treats this as "the header is present".
  return 'present';
}

export function compileHeaderMatcher(m: HeaderMatcherConfig): MetadataPredicate {
  const key = m.name.toLowerCase();
  const invert = m.invert_match === true;
  const missingAsEmpty = m.treat_missing_header_as_empty === true;
  const test = stringTest(m);
  if (test === 'present') {
    const wantPresent = m.present_match !== false;
    return (md) => ((md.get(key) !== undefined) === wantPresent) !== invert;
  }
  return (md) => {
    let v = md.get(key);
    if (v === undefined) {
      if (!missingAsEmpty) return false; // Envoy: a missing header never matches, inverted or not.
      v = '';
    }
    return test(v) !== invert;
  };
}
