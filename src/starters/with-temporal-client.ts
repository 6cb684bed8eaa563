/**
 * The connection bracket of the schedule-managing commands (`rdd schedule …`, `rdd sweep …`):
 * connect, run, turn the client's errors into exit codes, close.
 */
import { connectClient, isTemporalUnreachable, temporalAddress } from '../client/connection.ts';
import { TemporalUnreachableError } from '../client/temporal-unreachable-error.ts';
import { CliError, ExitCode } from './exit-codes.ts';

/** A connected Temporal client, as `connectClient` returns it. */
export type TemporalClient = Awaited<ReturnType<typeof connectClient>>;

/**
 * Connects to Temporal with `env`, runs `fn`, and closes the connection whatever happens. An error
 * `fn` throws goes first to `mapError`: what it returns (a CliError, a UsageError, …) is thrown
 * instead; `undefined` leaves the error as it is. A transport error, raw or already wrapped, then
 * becomes CliError 5 (`TemporalUnreachable`) naming the address; every other error is rethrown.
 * Runs `fn` once: no retries.
 * @throws CliError 5 when Temporal does not answer (connecting, or during `fn`); what `mapError`
 *   returns; any other error of `fn` unchanged.
 * @example await withTemporalClient(env, sweepError, (client) => triggerSweepSchedule(client, name))
 */
export async function withTemporalClient(
  env: Record<string, string | undefined>,
  mapError: (err: unknown) => Error | undefined,
  fn: (client: TemporalClient) => Promise<void>,
): Promise<void> {
  const address = temporalAddress(env);
  const client = await connectClient(env);
  try {
    await fn(client);
  } catch (err) {
    const mapped = mapError(err);
    if (mapped) throw mapped;
    if (err instanceof TemporalUnreachableError || isTemporalUnreachable(err))
      throw new CliError(
        ExitCode.TemporalUnreachable,
        err instanceof TemporalUnreachableError
          ? err.message
          : new TemporalUnreachableError(address, err).message,
        { cause: err },
      );
    throw err;
  } finally {
    await client.connection.close();
  }
}
