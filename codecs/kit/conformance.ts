/**
 * Runs the conformance checks on a codec and collects the outcome of each, for the
 * `meltemi-codec-kit` command and for callers that want a report rather than tests.
 */
import type { CodecFactory } from '../api/index.js';
import type { ConformanceCheck } from './checks/check.js';
import { errorReplyCheck } from './checks/error-reply.js';
import { factoryCheck } from './checks/factory.js';
import { fuzzCheck } from './checks/fuzz.js';
import { heartbeatCheck } from './checks/heartbeat.js';
import { pipeliningCheck } from './checks/pipelining.js';
import { requestIdCheck } from './checks/request-id.js';
import { roundTripCheck } from './checks/round-trip.js';
import { splitPointsCheck } from './checks/split-points.js';
import { normalizeSamples } from './samples.js';
import type { CodecSamples } from './samples.js';
import { makeSubject } from './subject.js';
import type { KitSubject } from './subject.js';

/** Every check, in the order they run (cheap structural ones first). */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  factoryCheck,
  roundTripCheck,
  splitPointsCheck,
  pipeliningCheck,
  requestIdCheck,
  errorReplyCheck,
  heartbeatCheck,
  fuzzCheck,
];

/** How one check went. */
export interface CheckOutcome {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'not applicable';
  /** The summary on success, the failure message otherwise. */
  readonly detail: string;
}

/** Builds the subject the checks run on; throws a TypeError for malformed samples. */
export function conformanceSubject(factory: CodecFactory, samples: CodecSamples): KitSubject {
  return makeSubject(factory, normalizeSamples(samples));
}

/** Runs one check; exceptions of any kind become a failed outcome. */
export function runCheck(check: ConformanceCheck, subject: KitSubject): CheckOutcome {
  if (!check.applies(subject)) return { name: check.name, status: 'not applicable', detail: 'nothing declared to check' };
  try {
    return { name: check.name, status: 'pass', detail: check.run(subject) };
  } catch (err) {
    return { name: check.name, status: 'fail', detail: (err as Error).message };
  }
}

/** Runs every check on `factory` with `samples`. */
export function checkCodecConformance(factory: CodecFactory, samples: CodecSamples): CheckOutcome[] {
  const subject = conformanceSubject(factory, samples);
  return CONFORMANCE_CHECKS.map((c) => runCheck(c, subject));
}
