/**
 * The ground floor's public surface (`meltemi/config`): the config vocabulary that filter
 * and codec packages share with the runtime. Schema combinators with Envoy's field rules,
 * durations in milliseconds, ConfigError, the RE2 regex engine, and Envoy's matchers (the
 * schemas and their compiled predicates). Nothing here imports the runtime (proxy/),
 * filters/ or xds-client/, so a package built on it sees what the built-in filters see.
 */
export {
  bool,
  duration,
  int,
  list,
  MAX_TIMER_MS,
  object,
  oneOfValues,
  optional,
  record,
  refine,
  str,
  takeWarnings,
  unknownValue,
  withUnknownFieldsAllowed,
  wrappedInt,
} from './schema.js';
export type { Infer, ObjectOf, ObjectOptions, Schema, Shape } from './schema.js';
export {
  CodecError,
  ConfigError,
  ConformanceFailure,
  ERROR_CODES,
  ExtensionLoadError,
  HessianError,
  LogFormatError,
  MeltemiError,
  ProtobufWireError,
  RegexSyntaxError,
} from './errors.js';
export type { CodecErrorCode, ErrorCode } from './errors.js';
export { compileRegex, regexProblem } from './regex.js';
export type { RegexMatcher, RegexOptions } from './regex.js';
export { headerMatcher, regexMatcher, routeMatch, stringMatcher } from './matchers.js';
export type { HeaderMatcherConfig } from './matchers.js';
export { compileHeaderMatcher } from './header-matcher.js';
export type { MetadataPredicate } from './header-matcher.js';
export { fractionalPercent } from './percent.js';
