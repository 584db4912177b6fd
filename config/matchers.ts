/**
 * The matcher schemas shared by the route table and by filters (fault, rate limits, and
 * filter packages from npm): Envoy's HeaderMatcher, StringMatcher and RegexMatcher, and
 * Aeraki's RouteMatch. Field names are Envoy's and Aeraki's (spec/metaprotocol.md §5);
 * config/header-matcher.ts compiles a parsed HeaderMatcher into a predicate.
 */
import { regexProblem } from './regex.js';
import { bool, int, list, object, optional, refine, str, unknownValue } from './schema.js';
import type { Infer } from './schema.js';

/** An RE2 pattern: syntax RE2 refuses (lookbehind, backreferences ...) is refused here, at config time. */
const re2Pattern = refine(str(), regexProblem);

export const regexMatcher = object({ regex: re2Pattern, google_re2: optional(unknownValue()) }, { proto: 'envoy.type.matcher.v3.RegexMatcher' });

export const stringMatcher = object(
  {
    exact: optional(str()),
    prefix: optional(str()),
    suffix: optional(str()),
    contains: optional(str()),
    safe_regex: optional(regexMatcher),
    ignore_case: optional(bool()),
  },
  { oneOf: [['exact', 'prefix', 'suffix', 'contains', 'safe_regex']], proto: 'envoy.type.matcher.v3.StringMatcher' },
);

export const headerMatcher = object(
  {
    name: str({ minLength: 1 }),
    exact_match: optional(str()),
    safe_regex_match: optional(regexMatcher),
    range_match: optional(object({ start: int(), end: int() }, { proto: 'envoy.type.v3.Int64Range' })),
    present_match: optional(bool()),
    prefix_match: optional(str()),
    suffix_match: optional(str()),
    contains_match: optional(str()),
    string_match: optional(stringMatcher),
    invert_match: optional(bool()),
    treat_missing_header_as_empty: optional(bool()),
  },
  {
    oneOf: [
      ['exact_match', 'safe_regex_match', 'range_match', 'present_match', 'prefix_match', 'suffix_match', 'contains_match', 'string_match'],
    ],
    proto: 'envoy.config.route.v3.HeaderMatcher',
  },
);
export type HeaderMatcherConfig = Infer<typeof headerMatcher>;

export const routeMatch = object({ metadata: optional(list(headerMatcher)) }, { proto: 'aeraki.meta_protocol_proxy.config.route.v1alpha.RouteMatch' });
