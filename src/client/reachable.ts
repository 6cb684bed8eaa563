/** Turns transport errors of client calls into `TemporalUnreachableError`. */
import type { Client } from '@temporalio/client';
import { isTemporalUnreachable } from './connection.ts';
import { TemporalUnreachableError } from './temporal-unreachable-error.ts';

/**
 * Runs `fn`; a transport error it throws (`isTemporalUnreachable`) becomes a
 * `TemporalUnreachableError` naming the client's address (`Temporal` when the connection does not
 * say). Every other error passes through unchanged. Idempotent exactly when `fn` is.
 * @throws TemporalUnreachableError when Temporal does not answer; whatever else `fn` throws.
 * @example return await reachable(client, () => client.workflow.getHandle(id).describe())
 */
export async function reachable<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isTemporalUnreachable(err)) {
      const address =
        (client.connection as { options?: { address?: string } }).options?.address ?? 'Temporal';
      throw new TemporalUnreachableError(address, err);
    }
    throw err;
  }
}
