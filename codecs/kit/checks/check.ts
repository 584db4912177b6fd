import type { KitSubject } from '../subject.js';

/** One conformance check. `run` throws a ConformanceFailure, or returns a one-line summary. */
export interface ConformanceCheck {
  readonly name: string;
  /** False when the samples give nothing to check (no heartbeat declared); the check is then not run. */
  applies(subject: KitSubject): boolean;
  run(subject: KitSubject): string;
}
