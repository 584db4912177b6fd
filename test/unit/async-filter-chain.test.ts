/** The filter chain with a filter that waits (a global rate limit): resumes, stops, and fails correctly. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../../filters/api/index.js';
import type { Filter, FilterExchange } from '../../filters/api/index.js';
import { runRequestFilters } from '../../proxy/downstream/filter-chain.js';
import type { ChainSubject } from '../../proxy/downstream/filter-chain.js';

interface Subject extends ChainSubject {
  open: boolean;
  replies: ErrorType[];
  forwarded: number;
}

function subject(): Subject {
  const s = {
    open: true,
    replies: [] as ErrorType[],
    forwarded: 0,
    filterChainOpen: () => s.open,
    sendLocalReply: (e: ErrorType) => {
      s.replies.push(e);
      s.open = false;
    },
    onFault: (_where: string, _err: unknown) => {
      s.replies.push(ErrorType.Unspecified);
      s.open = false;
    },
  };
  return s as unknown as Subject;
}

const router: Filter = {
  onRequest(ex: FilterExchange) {
    (ex as Subject).forwarded++;
    return FilterStatus.Stop;
  },
};

const later = <T>(v: T): Promise<T> => new Promise((r) => setTimeout(() => r(v), 5));
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('filter chain with an asynchronous filter', () => {
  test('synchronous filters run to the router in the same tick', () => {
    const s = subject();
    runRequestFilters([{ onRequest: () => FilterStatus.Continue }, router], s);
    assert.equal(s.forwarded, 1);
  });

  test('Continue after a wait resumes with the next filter', async () => {
    const s = subject();
    runRequestFilters([{ onRequest: () => later(FilterStatus.Continue) }, router], s);
    assert.equal(s.forwarded, 0, 'nothing forwarded before the filter decided');
    await flush();
    assert.equal(s.forwarded, 1);
  });

  test('Stop after a wait ends the chain', async () => {
    const s = subject();
    runRequestFilters([{ onRequest: () => later(FilterStatus.Stop) }, router], s);
    await flush();
    assert.equal(s.forwarded, 0);
  });

  test('an exchange that ended while the filter waited is not forwarded', async () => {
    const s = subject();
    runRequestFilters([{ onRequest: () => later(FilterStatus.Continue) }, router], s);
    s.open = false;
    await flush();
    assert.equal(s.forwarded, 0);
    assert.deepEqual(s.replies, []);
  });

  test('a rejecting filter answers with an error reply', async () => {
    const s = subject();
    runRequestFilters([{ onRequest: () => Promise.reject(new Error('boom')) }, router], s);
    await flush();
    assert.equal(s.forwarded, 0);
    assert.equal(s.replies.length, 1);
  });
});
