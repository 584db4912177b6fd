// A node:test reporter: the spec reporter, with what each test file writes to stdout and
// stderr (Meltemi's JSON log lines, peers' chatter, printed seeds) kept out of the run's
// output. Each file's output goes to its own log, .tmp/test-logs/<file>.log, and is printed
// only when a test of that file fails: a passing run reads as a list of tests, a failing one
// shows the log lines that explain it.
// Used by scripts/run-tests.mjs (--test-reporter); MELTEMI_TEST_VERBOSE=1 prints everything.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spec } from 'node:test/reporters';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const LOG_DIR = path.join(ROOT, '.tmp', 'test-logs');
const TEST_DIR = path.join(ROOT, 'dist', 'test');

/** .tmp/test-logs/<path under dist/test, or the base name>.log */
function logPathOf(file) {
  const rel = file.startsWith(TEST_DIR + path.sep) ? path.relative(TEST_DIR, file) : path.basename(file);
  return path.join(LOG_DIR, rel.replace(/\.js$/, '.log'));
}

/** The captured output of one test file. */
class FileLog {
  constructor(file) {
    this.file = file;
    this.path = logPathOf(file);
    /** Output not shown yet; undefined once the file failed (its output then passes through). */
    this.pending = [];
    mkdirSync(path.dirname(this.path), { recursive: true });
    appendFileSync(this.path, `--- ${new Date().toISOString()} ${file}\n`);
  }
}

/** The events the spec reporter gets: each file's output held back until one of its tests fails. */
function* filter(event, logs) {
  const file = event.data?.file;
  if (file === undefined) return yield event;
  let log = logs.get(file);
  if ((event.type === 'test:stderr' || event.type === 'test:stdout')) {
    if (log === undefined) logs.set(file, (log = new FileLog(file)));
    appendFileSync(log.path, event.data.message);
    if (log.pending === undefined) yield event;
    else log.pending.push(event);
    return;
  }
  if (event.type === 'test:fail' && log?.pending !== undefined) {
    const held = log.pending;
    log.pending = undefined;
    if (held.length > 0) {
      const note = (message) => ({ type: 'test:stderr', data: { file, message } });
      yield note(`--- output of ${path.relative(ROOT, file)} (a test failed; full log: ${path.relative(ROOT, log.path)})\n`);
      yield* held;
      yield note('--- end of output\n');
    }
  }
  yield event;
}

async function* quiet(source) {
  const logs = new Map();
  const reporter = spec();
  const out = [];
  reporter.on('data', (chunk) => out.push(chunk));
  for await (const event of source) {
    for (const e of filter(event, logs)) reporter.write(e);
    yield* out.splice(0);
  }
  reporter.end();
  await new Promise((resolve, reject) => reporter.once('end', resolve).once('error', reject));
  yield* out.splice(0);
}

export default process.env['MELTEMI_TEST_VERBOSE'] === '1' ? spec : quiet;
