/**
 * Every error class Meltemi throws or returns on purpose, and its stable code. Callers (the
 * CLI, a codec or filter package, a test) branch on `err.code`, never on the message text,
 * which may change. docs/errors.md lists the same codes; a test keeps the two in step.
 *
 * It lives on the ground floor so that codecs, filters, xds-client and the runtime can all
 * name these classes without importing each other.
 */

/** The stable error codes, with what each means (the docs are generated from this table). */
export const ERROR_CODES = {
  MELTEMI_ERR_CONFIG: 'A bootstrap, xDS resource or extension config that cannot be used; `problems` lists "<field path>: <problem>" each.',
  MELTEMI_ERR_REGEX: 'A regular expression RE2 does not accept (Envoy safe_regex semantics, linear-time matching).',
  MELTEMI_ERR_EXTENSION: 'A codec or filter package that cannot be loaded: not found, no factory, or written for another API version.',
  MELTEMI_ERR_LOG_FORMAT: 'A log pattern (--log-format) with a flag Meltemi does not know.',
  MELTEMI_ERR_CODEC: 'A frame its codec cannot decode; only that connection is closed.',
  MELTEMI_ERR_FRAME_TOO_LARGE: 'A frame larger than the codec\'s max frame size; only that connection is closed.',
  MELTEMI_ERR_BAD_MAGIC: 'Bytes that do not start a frame of the listener\'s protocol; only that connection is closed.',
  MELTEMI_ERR_UNSUPPORTED: 'A well-formed frame using a protocol feature the codec does not implement.',
  MELTEMI_ERR_PROTOBUF_WIRE: 'Truncated or malformed protobuf bytes inside a frame (bRPC and tRPC metadata).',
  MELTEMI_ERR_HESSIAN: 'Malformed hessian2 inside a Dubbo frame; the Dubbo codec turns it into a BAD_REQUEST reply.',
  MELTEMI_ERR_CONFORMANCE: 'A codec failed a check of the codec kit (meltemi-codec-kit); the message says what was expected.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of every Meltemi error: a stable `code` next to the human message. */
export class MeltemiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration that cannot be used; `problems` holds one "<field path>: <problem>" each. */
export class ConfigError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_CONFIG';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source = 'configuration') {
    super('MELTEMI_ERR_CONFIG', `invalid ${source}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** A pattern that RE2 does not accept; the message says why, in RE2's words. */
export class RegexSyntaxError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_REGEX';
  constructor(pattern: string, reason: string) {
    super('MELTEMI_ERR_REGEX', `invalid RE2 regex ${JSON.stringify(pattern)}: ${reason}`);
  }
}

/** A codec or filter package that cannot be loaded; `meltemi` prints the message and exits 1. */
export class ExtensionLoadError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_EXTENSION';
  constructor(message: string) {
    super('MELTEMI_ERR_EXTENSION', message);
  }
}

/** A log pattern that cannot be compiled. */
export class LogFormatError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_LOG_FORMAT';
  constructor(message: string) {
    super('MELTEMI_ERR_LOG_FORMAT', message);
  }
}

/** The codes a codec's decode failure may carry. */
export type CodecErrorCode = 'MELTEMI_ERR_CODEC' | 'MELTEMI_ERR_FRAME_TOO_LARGE' | 'MELTEMI_ERR_BAD_MAGIC' | 'MELTEMI_ERR_UNSUPPORTED';

/** A decode failure, returned (not thrown) by a codec's `decode`; it closes only its connection. */
export class CodecError extends MeltemiError {
  declare readonly code: CodecErrorCode;
  constructor(message: string, code: CodecErrorCode = 'MELTEMI_ERR_CODEC') {
    super(code, message);
  }
}

/** Thrown by the protobuf wire readers for truncated or malformed bytes. */
export class ProtobufWireError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_PROTOBUF_WIRE';
  constructor(message: string) {
    super('MELTEMI_ERR_PROTOBUF_WIRE', message);
  }
}

/** Thrown inside the Dubbo codec only; the codec turns it into a CodecError value or a reply. */
export class HessianError extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_HESSIAN';
  constructor(message: string) {
    super('MELTEMI_ERR_HESSIAN', message);
  }
}

/** A codec-kit conformance check failed; the message says what the codec did and what was expected. */
export class ConformanceFailure extends MeltemiError {
  declare readonly code: 'MELTEMI_ERR_CONFORMANCE';
  constructor(message: string) {
    super('MELTEMI_ERR_CONFORMANCE', message);
  }
}
