/**
 * A detection request that cannot run: a bucket or key S3 would refuse, a negative channel, a
 * threshold that is not a finite number, an unusable `id`, … (`detectInputProblems` in
 * src/shared/validate-input.ts). Thrown by `startDetection` before it calls Temporal: nothing was
 * started. Fix the request; sending it again unchanged throws again.
 * @example
 * try { await startDetection(client, input) } catch (err) {
 *   if (err instanceof InvalidDetectionInputError) console.error(err.problems.join('\n'))
 * }
 */
export class InvalidDetectionInputError extends Error {
  override name = 'InvalidDetectionInputError';
  /** One sentence per problem, naming the field, e.g. `threshold must be a finite number, got NaN`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid detection request: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
