/**
 * Reads the shared spec material (captures, vectors) that sits beside the repository as
 * ../shared/spec. CI lays out the same folder next to its clone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findSpecDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'shared', 'spec');
    if (existsSync(candidate)) return candidate;
    const sibling = path.join(dir, '..', 'shared', 'spec');
    if (existsSync(sibling)) return path.resolve(sibling);
    dir = path.dirname(dir);
  }
  throw new Error('cannot find shared/spec next to the repository (set MELTEMI_SPEC_DIR)');
}

export const SPEC_DIR = process.env['MELTEMI_SPEC_DIR'] ?? findSpecDir();

export interface CaptureRead {
  conn: number;
  dir: 'C->S' | 'S->C';
  bytes: Buffer;
}

/** The TCP reads of a capture file, in order (one line = one read). */
export function readCapture(name: string): CaptureRead[] {
  const text = readFileSync(path.join(SPEC_DIR, 'captures', name), 'utf8');
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
