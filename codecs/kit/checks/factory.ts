/** The factory itself: a name, a protocol, an API version this Meltemi loads, and both halves. */
import { CODEC_API_VERSIONS, apiVersionProblem } from '../../api/index.js';
import { ConformanceFailure } from '../subject.js';
import type { KitSubject } from '../subject.js';
import type { ConformanceCheck } from './check.js';

export const factoryCheck: ConformanceCheck = {
  name: 'factory: name, protocol, a supported apiVersion, both halves',
  applies: () => true,
  run(s: KitSubject): string {
    const f = s.factory;
    if (typeof f.name !== 'string' || f.name === '') throw new ConformanceFailure('factory.name must be a non-empty string (the codec name configs use)');
    if (typeof f.protocol !== 'string' || f.protocol === '') throw new ConformanceFailure('factory.protocol must be a non-empty string (used in stats)');
    const problem = apiVersionProblem(f.apiVersion, CODEC_API_VERSIONS, 'codec API');
    if (problem !== undefined) throw new ConformanceFailure(`factory ${problem}`);
    const server = s.server();
    const client = s.client();
    for (const m of ['decode', 'encode', 'setRequestId', 'errorReply', 'heartbeatReply'] as const) {
      if (typeof server[m] !== 'function') throw new ConformanceFailure(`the server half has no ${m}()`);
    }
    for (const m of ['decode', 'encode', 'setRequestId'] as const) {
      if (typeof client[m] !== 'function') throw new ConformanceFailure(`the client half has no ${m}()`);
    }
    return `${f.name} (${f.protocol}), codec API ${f.apiVersion}`;
  },
};
