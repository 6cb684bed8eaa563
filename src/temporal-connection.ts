/**
 * Temporal connection settings come from `@temporalio/envconfig` (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, config files), so a worker
 * moves from the local dev server to Temporal Cloud by environment alone.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

type Env = Record<string, string | undefined>;

function connectConfig(env: Env) {
  const defined = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: defined });
  return { connectionOptions, namespace: namespace ?? 'default' };
}

/** A workflow client for starters. Call `client.connection.close()` when done. */
export async function connectClient(env: Env): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig(env);
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}

/** A worker connection and the namespace to poll. */
export async function connectWorker(env: Env): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectConfig(env);
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
