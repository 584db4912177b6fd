#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ExtensionLoadError, parseExtensionFlags } from './extension-loader.js';
import { ConfigError } from '../config/errors.js';
import { loadBootstrapFile } from './config/load-bootstrap.js';
import { defaultConcurrency } from './cpu-quota.js';
import { ENVOY_FLAG_OPTIONS, bootstrapOverrides, parseEnvoyFlags } from './envoy-flags.js';
import type { EnvoyFlags } from './envoy-flags.js';
import { LOG_LEVEL_NAMES, logger, setLogFormat, setLogLevel } from './logger.js';
import { startDynamicConfig } from './dynamic/dynamic-config.js';
import { MeltemiServer } from './server.js';
import { isWorker, runPrimary, runWorker } from './workers.js';

const USAGE = `usage: meltemi -c <bootstrap.yaml|json> [--config-yaml <yaml>] [options]

  -c, --config-path   Envoy v3 bootstrap file (YAML or JSON)
      --config-yaml Y Envoy v3 bootstrap as YAML or JSON, merged over the file as Envoy does
                      (protobuf MergeFrom: lists append, messages merge, scalars overwrite);
                      without -c it is the whole bootstrap
      --validate      check the bootstrap and exit (0 when valid)
      --allow-unknown-static-fields
                      accept fields of the bootstrap file that are in no Envoy or Aeraki
                      proto (typos, newer fields), with one warning each
  -l, --log-level     trace|debug|info|warning|error|critical|off (Envoy's names; warn too;
                      default info, or MELTEMI_LOG_LEVEL)
      --log-format F  json (default, or MELTEMI_LOG_FORMAT), text (Envoy's default pattern
                      [%Y-%m-%d %T.%e][%t][%l][%n] %v) or an Envoy pattern (docs/logging.md)
      --codec name=pkg    load a codec package (name or path, resolved from the working
                          directory) for that codec name; repeatable
      --filter name=pkg   load a filter package for that filter name; repeatable
      --concurrency N     worker processes (default, or 0: the container's CPU quota from its
                          cgroup, rounded up, else one per core); with N > 1 the primary holds
                          the xDS streams and the admin server, workers serve traffic
      --drain-time-s N    drain time in seconds (replaces meltemi.drain_timeout)
      --service-cluster C node.cluster (replaces the bootstrap's)
      --service-node N    node.id (replaces the bootstrap's)
  -h, --help          this text

  Accepted for pilot-agent (istio-agent), values checked, no effect in Meltemi:
      --drain-strategy immediate   (Meltemi always drains at once; gradual is refused)
      --local-address-ip-version v4|v6
      --file-flush-interval-msec N
      --disable-hot-restart        (Meltemi has no hot restart)
      --component-log-level c:l,...  (Meltemi has one log level: use -l)
      --skip-deprecated-logs
`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        'config-path': { type: 'string', short: 'c' },
        validate: { type: 'boolean' },
        'log-level': { type: 'string', short: 'l' },
        'log-format': { type: 'string' },
        'allow-unknown-static-fields': { type: 'boolean' },
        codec: { type: 'string', multiple: true },
        filter: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        'config-yaml': { type: 'string' },
        ...ENVOY_FLAG_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`meltemi: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const path = args['config-path'];
  if (path === undefined && args['config-yaml'] === undefined) {
    process.stderr.write(`meltemi: -c <bootstrap> is required\n${USAGE}`);
    return 2;
  }
  let envoyFlags: EnvoyFlags;
  try {
    envoyFlags = parseEnvoyFlags(args);
  } catch (err) {
    process.stderr.write(`meltemi: ${(err as Error).message}\n`);
    return 2;
  }
  if (args['log-format'] !== undefined) {
    const problem = setLogFormat(args['log-format']);
    if (problem !== undefined) {
      process.stderr.write(`meltemi: ${problem}\n`);
      return 2;
    }
  }
  if (args['log-level'] !== undefined && setLogLevel(args['log-level']) === undefined) {
    process.stderr.write(`meltemi: --log-level: unknown level '${args['log-level']}'; one of ${LOG_LEVEL_NAMES}\n`);
    return 2;
  }
  let config;
  try {
    const extensions = { codecs: parseExtensionFlags(args.codec ?? [], 'codec'), filters: parseExtensionFlags(args.filter ?? [], 'filter') };
    config = await loadBootstrapFile(path, extensions, { allowUnknownStaticFields: args['allow-unknown-static-fields'] === true }, bootstrapOverrides(args['config-yaml'], envoyFlags));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ExtensionLoadError) {
      process.stderr.write(`meltemi: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (envoyFlags.drainTimeoutMs !== undefined) config = { ...config, settings: { ...config.settings, drainTimeoutMs: envoyFlags.drainTimeoutMs } };
  if (args.validate === true) {
    for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${path ?? '--config-yaml'}: valid (${config.listeners.length} listener(s), ${config.clusters.length} cluster(s))\n`);
    return 0;
  }
  const concurrency = args.concurrency === undefined || args.concurrency === '0' ? defaultConcurrency() : Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write(`meltemi: --concurrency must be a positive integer, got ${args.concurrency}\n`);
    return 2;
  }
  try {
    if (isWorker()) return await runWorker(config);
    if (concurrency > 1) return await runPrimary(config, concurrency);
  } catch (err) {
    process.stderr.write(`meltemi: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  let server: MeltemiServer;
  let dynamic;
  try {
    server = await MeltemiServer.start(config);
    dynamic = startDynamicConfig(server, config);
  } catch (err) {
    process.stderr.write(`meltemi: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'draining before exit');
      dynamic?.close();
      // The drain ends at its timeout, but closing what is left (admin keep-alive sockets, a
      // trace exporter's flush) has no bound of its own: never outlive the drain by more than 5 s.
      setTimeout(() => {
        logger.error({ signal }, 'exit forced: closing after the drain did not finish within 5 s');
        logger.flush();
        process.exit(1);
      }, config.settings.drainTimeoutMs + 5000).unref();
      server.drain().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while draining');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => {
    logger.flush();
    process.exitCode = code;
    // Timers of closed sockets must not keep the process alive after a drain.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`meltemi: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
