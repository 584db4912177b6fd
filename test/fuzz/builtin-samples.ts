/**
 * Sample frames of every built-in codec (spec/test-vectors.md and captures/, read through the
 * spec-files helper), as subjects for the mutation fuzzer: the frames real implementations
 * exchanged, which the fuzzer mutates.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { CodecFactory } from '../../codecs/api/index.js';
import { brpcCodecFactory } from '../../codecs/brpc/index.js';
import { dubboCodecFactory } from '../../codecs/dubbo/index.js';
import type { CodecSamples } from '../../codecs/kit/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { trpcCodecFactory } from '../../codecs/trpc/index.js';
import { FIXTURE_SPEC_DIR as SPEC_DIR } from '../helpers/spec-files.js';

function taggedHex(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(path.join(SPEC_DIR, 'captures', name), 'utf8').split('\n')) {
    const m = /^([A-Z_0-9]+) ([0-9a-f]+)$/.exec(line.trim());
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

function vectorsOf(section: string): string[] {
  const text = readFileSync(path.join(SPEC_DIR, 'test-vectors.md'), 'utf8');
  const start = text.indexOf(`### ${section}`);
  if (start < 0) throw new Error(`test-vectors.md has no section ${section}`);
  const end = text.indexOf('\n### ', start + 4);
  const body = text.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/(?:^|\s)([0-9a-f]{24,})(?=\s|$)/gm)].map((m) => m[1]!);
}

/** One fuzz subject: a codec, its config and its samples. */
export interface BuiltinSubject {
  readonly name: string;
  readonly factory: CodecFactory;
  readonly samples: CodecSamples;
}

/** Every built-in codec, each Thrift transport on its own. */
export function builtinSubjects(): BuiltinSubject[] {
  const d = (s: string): string[] => vectorsOf(s);
  const framed = d('2.1 ');
  const unframed = d('2.2 ');
  const compact = d('2.3 ');
  const theader = d('2.5 ');
  const trpc = taggedHex('trpc-vectors.txt');
  return [
    {
      name: 'dubbo',
      factory: dubboCodecFactory,
      samples: {
        requests: [d('1.1 ')[0]!, d('1.2 ')[0]!, d('1.3 ')[0]!, d('1.7 ')[0]!],
        responses: [d('1.1 ')[1]!, d('1.2 ')[1]!, d('1.4 ')[0]!, d('1.7 ')[1]!],
        heartbeat: { request: d('1.5 ')[0]!, reply: d('1.5 ')[1]! },
      },
    },
    {
      name: 'thrift-framed',
      factory: thriftCodecFactory,
      samples: { requests: [framed[0]!, framed[2]!, framed[4]!], responses: [framed[1]!, framed[3]!, framed[6]!], options: { transport: 'framed' } },
    },
    { name: 'thrift-unframed', factory: thriftCodecFactory, samples: { requests: [unframed[0]!], responses: [unframed[1]!], options: { transport: 'unframed' } } },
    { name: 'thrift-compact', factory: thriftCodecFactory, samples: { requests: [compact[0]!, compact[3]!], responses: [compact[1]!] } },
    { name: 'thrift-header', factory: thriftCodecFactory, samples: { requests: [theader[0]!], responses: [theader[1]!], options: { transport: 'header' } } },
    {
      name: 'brpc',
      factory: brpcCodecFactory,
      samples: { requests: [d('3.1 ')[0]!, d('3.2 ')[0]!, d('3.2 ')[1]!, d('3.2 ')[4]!], responses: [d('3.1 ')[1]!, d('3.2 ')[5]!, d('3.2 ')[8]!] },
    },
    {
      name: 'trpc',
      factory: trpcCodecFactory,
      samples: {
        requests: [trpc.get('UNARY_REQUEST')!, trpc.get('ONEWAY_REQUEST')!, trpc.get('REQUEST_WITH_ATTACHMENT')!, d('4.1 ')[0]!],
        responses: [trpc.get('UNARY_RESPONSE')!, trpc.get('UNARY_ERROR_RET12')!, d('4.3 ')[0]!],
      },
    },
  ];
}
