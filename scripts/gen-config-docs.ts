/**
 * Generates, from the config schema (proxy/config/bootstrap-schema.ts) and the Envoy and
 * Aeraki protos the project ships:
 *   - docs/configuration.md, the Envoy compatibility matrix: every field of every message
 *     Meltemi reads, marked supported, accepted-and-ignored (with a warning) or rejected;
 *   - config/envoy-fields.generated.ts, the field names of those messages, so a valid
 *     Envoy field Meltemi lacks is told apart from a typo without a hand-kept list.
 *
 * Usage (after `npx tsc -p tsconfig.json`):
 *   node dist/scripts/gen-config-docs.js           write both files
 *   node dist/scripts/gen-config-docs.js --check   exit 1 when a committed file differs
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './config-docs/render-config-docs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function main(): number {
  const check = process.argv.includes('--check');
  const outputs = renderConfigDocs();
  let stale = 0;
  for (const [rel, text] of Object.entries(outputs)) {
    const file = path.join(REPO, rel);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current === text) continue;
    if (check) {
      process.stderr.write(`${rel} is out of date: run \`node dist/scripts/gen-config-docs.js\` and commit the result\n`);
      stale++;
    } else {
      fs.writeFileSync(file, text);
      process.stdout.write(`wrote ${rel}\n`);
    }
  }
  return stale === 0 ? 0 : 1;
}

process.exitCode = main();
