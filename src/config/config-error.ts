/**
 * The configuration of a process is invalid. Thrown by `loadWorkerConfig` / `loadClientConfig`
 * with every problem found, one per line, each naming its variable; a secret (a header value, a
 * URL's password) is never part of a problem. Commands map it to exit code 2.
 * @example try { loadWorkerConfig(env) } catch (err) { if (err instanceof ConfigError) console.error(err.message) }
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** One sentence per problem, e.g. `S3_BUCKET is required`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}
