import { Attachments } from './attachments.js';
import { countParameters } from './descriptor.js';
import { HEADER_SIZE } from './frame.js';
import { Hessian2Reader } from './hessian2-reader.js';

/**
 * The routable part of a Dubbo request body. The five leading strings are read at decode
 * time (cheap); the arguments are skipped to reach the attachments only when someone asks
 * for a key that lives there (spec/wire-formats.md §1.2).
 */
export class RequestBody {
  readonly dubboVersion: string;
  readonly path: string;
  readonly version: string;
  readonly method: string;
  readonly frame: Buffer;
  /** Offset just after the parameter descriptor. */
  readonly #argsOffset: number;
  readonly #descriptor: string;
  #attachments: Attachments | undefined;
  #attachmentsOffset = -1;
  /** Set when the deep parse failed; attachment keys are then reported missing. */
  deepParseError: string | undefined;

  constructor(frame: Buffer) {
    this.frame = frame;
    const r = new Hessian2Reader(frame, HEADER_SIZE);
    this.dubboVersion = r.readString();
    this.path = r.readString();
    this.version = r.readString();
    this.method = r.readString();
    this.#descriptor = r.readString();
    this.#argsOffset = r.pos;
  }

  /** The attachment map (parsed once, on first use). */
  get attachments(): Attachments {
    if (this.#attachments !== undefined) return this.#attachments;
    const r = new Hessian2Reader(this.frame, this.#argsOffset);
    try {
      const n = countParameters(this.#descriptor);
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
