import { Attachments } from './attachments.js';
import { countParameters } from './descriptor.js';
import { HEADER_SIZE } from './frame.js';
import { Hessian2Reader } from './hessian2-reader.js';

/**
 * The routable part of a Dubbo request body. The five leading strings are walked at decode
 * time and the path and method read (cheap); the arguments are skipped to reach the attachments only when someone asks
 * for a key that lives there (spec/wire-formats.md §1.2).
 */
export class RequestBody {
  /** Read at decode time: every router, stat and log line wants them. */
  readonly path: string;
  readonly method: string;
  readonly frame: Buffer;
  /** Where the dubbo version, service version and parameter descriptor start: read on first use. */
  readonly #dubboVersionAt: number;
  readonly #versionAt: number;
  readonly #descriptorAt: number;
  #dubboVersion: string | undefined;
  #version: string | undefined;
  /** Offset just after the parameter descriptor. */
  readonly #argsOffset: number;
  #attachments: Attachments | undefined;
  #attachmentsOffset = -1;
  /** Set when the deep parse failed; attachment keys are then reported missing. */
  deepParseError: string | undefined;

  constructor(frame: Buffer) {
    this.frame = frame;
    // The leading strings are all walked now, so a malformed header fails the decode; only
    // the ones a request needs are turned into JS strings.
    const r = new Hessian2Reader(frame, HEADER_SIZE);
    this.#dubboVersionAt = r.pos;
    r.skipString();
    this.path = r.readString();
    this.#versionAt = r.pos;
    r.skipString();
    this.method = r.readString();
    this.#descriptorAt = r.pos;
    r.skipString();
    this.#argsOffset = r.pos;
  }

  /** The Dubbo protocol version the client speaks (e.g. 2.0.2). */
  get dubboVersion(): string {
    return (this.#dubboVersion ??= this.#stringAt(this.#dubboVersionAt));
  }

  /** The service version ('' when none). */
  get version(): string {
    return (this.#version ??= this.#stringAt(this.#versionAt));
  }

  /**
   * Dubbo's Version.isSupportResponseAttachment, 2.0.2 <= dubbo version <= 2.0.99: such
   * clients read result flags 3-5. Checked on the bytes of the usual short "2.0.N" string, so
   * that no string is built per request.
   */
  get readsResponseAttachments(): boolean {
    const f = this.frame;
    const at = this.#dubboVersionAt;
    const units = f[at]!;
    if (units <= 0x1f && units >= 5 && f[at + 1] === 0x32 && f[at + 2] === 0x2e && f[at + 3] === 0x30 && f[at + 4] === 0x2e) {
      let patch = 0;
      let digits = 0;
      for (let i = 5; i <= units && f[at + i]! >= 0x30 && f[at + i]! <= 0x39; i++, digits++) patch = patch * 10 + f[at + i]! - 0x30;
      return digits > 0 && patch >= 2 && patch <= 99;
    }
    return supportsResponseAttachments(this.dubboVersion);
  }

  #stringAt(offset: number): string {
    return new Hessian2Reader(this.frame, offset).readString();
  }

  /** The attachment map (parsed once, on first use). */
  get attachments(): Attachments {
    if (this.#attachments !== undefined) return this.#attachments;
    const r = new Hessian2Reader(this.frame, this.#argsOffset);
    try {
      const n = countParameters(this.#stringAt(this.#descriptorAt));
      for (let i = 0; i < n; i++) r.skipValue();
      this.#attachmentsOffset = r.pos;
      this.#attachments = Attachments.parse(r);
    } catch (err) {
      this.deepParseError = (err as Error).message;
      this.#attachments = new Attachments();
      this.#attachmentsOffset = -1;
    }
    return this.#attachments;
  }

  /** Offset of the attachment map in the frame, or -1 if it could not be found. */
  get attachmentsOffset(): number {
    void this.attachments;
    return this.#attachmentsOffset;
  }
}

/** Version.isSupportResponseAttachment on the version string. */
function supportsResponseAttachments(version: string): boolean {
  const m = /^2\.0\.(\d+)/.exec(version);
  if (m === null) return false;
  const patch = Number(m[1]);
  return patch >= 2 && patch <= 99;
}
