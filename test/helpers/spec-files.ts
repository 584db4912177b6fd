/**
 * Reads the wire vectors and captures copied into the repository (test/fixtures/spec, see
 * its README for where they come from). Tests read only from there, never from outside the
 * repository, so a bare clone passes `npm test`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findFixtureSpecDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Source (test/helpers) when run with tsx; compiled (dist/test/helpers) when run from dist/:
  // the fixtures are not compiled, so the compiled helpers read the source folder.
  const candidates = [path.join(here, '..', 'fixtures', 'spec'), path.join(here, '..', '..', '..', 'test', 'fixtures', 'spec')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'test-vectors.md')));
  if (found === undefined) throw new Error(`test fixtures not found (looked in ${candidates.join(', ')})`);
  return path.resolve(found);
}

/** test/fixtures/spec: `test-vectors.md` and `captures/`. */
export const FIXTURE_SPEC_DIR = findFixtureSpecDir();

/** The path of a capture file (test/fixtures/spec/captures/<name>). */
export function capturePath(name: string): string {
  return path.join(FIXTURE_SPEC_DIR, 'captures', name);
}

export interface CaptureRead {
  conn: number;
  dir: 'C->S' | 'S->C';
  bytes: Buffer;
}

/** The TCP reads of a capture file, in order (one line = one read). */
export function readCapture(name: string): CaptureRead[] {
  const text = readFileSync(capturePath(name), 'utf8');
  const out: CaptureRead[] = [];
  for (const line of text.split('\n')) {
    const m = /^#(\d+) (C->S|S->C) (\d+)B ([0-9a-f]*)$/.exec(line.trim());
    if (m === null) continue;
    const bytes = Buffer.from(m[4]!, 'hex');
    if (bytes.length !== Number(m[3])) throw new Error(`${name}: byte count mismatch on a ${m[2]} line`);
    out.push({ conn: Number(m[1]), dir: m[2] as 'C->S' | 'S->C', bytes });
  }
  return out;
}

/** `<TAG> <hex>` lines of a capture text file (raw-*.out, trpc-vectors.txt), in order. */
export function readTaggedHex(name: string): { tag: string; bytes: Buffer }[] {
  const out: { tag: string; bytes: Buffer }[] = [];
  for (const line of readFileSync(capturePath(name), 'utf8').split('\n')) {
    const m = /^([A-Z_0-9]+) ([0-9a-f]+)$/.exec(line.trim());
    if (m !== null) out.push({ tag: m[1]!, bytes: Buffer.from(m[2]!, 'hex') });
  }
  return out;
}

/** The text of test/fixtures/spec/test-vectors.md. */
export function readTestVectors(): string {
  return readFileSync(path.join(FIXTURE_SPEC_DIR, 'test-vectors.md'), 'utf8');
}
