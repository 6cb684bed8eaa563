/**
 * Whether the namespace knows this project's custom search attributes, asked once per client: a
 * start that sets an unregistered attribute is refused by Temporal, so the client sets `BatchId`
 * at start only where it is registered (the embedded stack and `rdd setup` register all of them).
 */
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes.ts';

/** A "not registered" answer is asked again after this long (ms): `rdd setup` may run meanwhile. */
const UNREGISTERED_TTL_MS = 60_000;
const answers = new WeakMap<Client, { ok: boolean; atMs: number }>();

/**
 * True when every attribute of SEARCH_ATTRIBUTES is registered in `client`'s namespace. A `true`
 * is cached for the client's lifetime, a `false` for a minute. Never throws: a failed listing
 * (no permission for the operator API, e.g. on Temporal Cloud with a narrow key) counts as false.
 * @example if (await searchAttributesRegistered(client)) options.typedSearchAttributes = [...]
 */
export async function searchAttributesRegistered(client: Client): Promise<boolean> {
  const known = answers.get(client);
  if (known && (known.ok || Date.now() - known.atMs < UNREGISTERED_TTL_MS)) return known.ok;
  let ok: boolean;
  try {
    const answer = await client.connection.operatorService.listSearchAttributes({
      namespace: client.options.namespace,
    });
    const names = new Set(Object.keys(answer.customAttributes ?? {}));
    ok = SEARCH_ATTRIBUTES.every((key) => names.has(key.name));
  } catch {
    ok = false;
  }
  answers.set(client, { ok, atMs: Date.now() });
  return ok;
}
