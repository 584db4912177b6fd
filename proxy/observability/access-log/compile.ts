import { readFileSync } from 'node:fs';
import { FILE_ACCESS_LOG_TYPE, STDERR_ACCESS_LOG_TYPE } from '../config-schema.js';
import type { AccessLogConfig } from '../config-schema.js';
import { compileJson } from './access-logger.js';
import type { AccessLogSpec } from './access-logger.js';
import { compileFormat } from './format.js';

/**
 * Compiles the `access_log` entries of a MetaProtocolProxy: formats are parsed now, so an
 * unknown command stops the start with its field path. A logger with no format gets
 * Aeraki's default text format.
 */
export function compileAccessLogs(logs: readonly AccessLogConfig[], path: string, errors: string[]): AccessLogSpec[] {
  const out: AccessLogSpec[] = [];
  logs.forEach((l, i) => {
    const p = `${path}[${i}].typed_config`;
    const tc = l.typed_config;
    const type = tc['@type'];
    let dest: string;
    if (type === FILE_ACCESS_LOG_TYPE) {
      if (tc.path === undefined) {
        errors.push(`${p}.path: required field is missing`);
        return;
      }
      dest = tc.path;
    } else dest = type === STDERR_ACCESS_LOG_TYPE ? '/dev/stderr' : '/dev/stdout';
    try {
      const lf = tc.log_format;
      let text: string | undefined = tc.format ?? lf?.text_format ?? lf?.text_format_source?.inline_string;
      if (lf?.text_format_source?.filename !== undefined) text = readFileSync(lf.text_format_source.filename, 'utf8');
      const json = tc.json_format ?? lf?.json_format;
      out.push({
        path: dest,
        text: text === undefined ? undefined : compileFormat(text),
        json: json === undefined ? undefined : compileJson(json),
        omitEmptyValues: lf?.omit_empty_values ?? false,
      });
    } catch (err) {
      errors.push(`${p}.log_format: ${(err as Error).message}`);
    }
  });
  return out;
}
