/**
 * docs/admin.md documents every path the admin server answers, with the method it accepts:
 * the list comes from the server itself (its 404 names every path), so an endpoint added
 * without its section fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AdminServer } from '../../proxy/admin/admin-server.js';
import type { AdminSource } from '../../proxy/admin/admin-server.js';
import { emptyConfigDumpSource } from '../../proxy/admin/config-dump/source.js';
import { emptySnapshot } from '../../proxy/observability/stats-snapshot.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/e2e when compiled, test/e2e from source.
const repoRoot = path.resolve(here, '..', '..', here.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

const idle: AdminSource = {
  serverState: () => 'LIVE',
  configDump: () => emptyConfigDumpSource(),
  statsSnapshot: () => emptySnapshot(),
  clusters: () => [],
  serverInfo: () => ({}),
  listeners: () => [],
  memory: () => ({ total: { allocated: 0, heapSize: 0, physical: 0 }, processes: 1 }),
  drainListeners: () => {},
  quit: () => {},
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('docs/admin.md has a table row and a section for every admin path, with its method', async () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'admin.md'), 'utf8');
  const admin = await AdminServer.start('127.0.0.1', 0, idle);
  try {
    const base = `http://127.0.0.1:${admin.port}`;
    const notFound = await fetch(`${base}/no-such-admin-path`);
    assert.equal(notFound.status, 404);
    const paths = /try (.*)$/m.exec(await notFound.text())![1]!.trim().split(' ');
    assert.ok(paths.length >= 12, paths.join(' '));
    for (const p of paths) {
      // A GET to a path that changes the proxy gets 405 (and changes nothing).
      const method = (await fetch(`${base}${p}`)).status === 405 ? 'POST' : 'GET';
      assert.match(doc, new RegExp(`^\\| \\[\`${escape(p)}\`\\]\\(#[^)]+\\) \\| ${method} \\|`, 'm'), `table row for ${p} (${method})`);
      assert.match(doc, new RegExp(`^### .*\`${escape(p)}\``, 'm'), `section for ${p}`);
    }
  } finally {
    await admin.close();
  }
});
