/** A configuration that cannot be used; `problems` holds one "<field path>: <problem>" each. */
export class ConfigError extends Error {
  readonly code = 'MELTEMI_ERR_CONFIG';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source = 'configuration') {
    super(`invalid ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
