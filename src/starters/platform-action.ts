/**
 * What `rdd platform status|capacity` do (their definitions are platform-command.ts). Loaded only
 * when a command runs.
 */
import { connectClient } from '../client/connection.ts';
import {
  getPlatformCapacity,
  PlatformCapacityNotStartedError,
  setPlatformCapacity,
  type CapacityState,
} from '../client/platform.ts';
import { baseUrl } from '../config/variables.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import { formatTable } from './format-table.ts';
import type { PlatformOptions } from './platform-command.ts';
import { withStackEnv } from './stack-env.ts';

/**
 * Prints the platform's capacity state. Reads only.
 * @throws UsageError (exit 2) without a platform URL; CliError exit 4 when no capacity workflow runs.
 */
export async function platformStatus(options: PlatformOptions): Promise<void> {
  await withPlatform(options, async (client, url) => print(await getPlatformCapacity(client, url), options));
}

/**
 * Sets the platform's capacity (update `setCapacity`) and prints the new state. Idempotent.
 * @throws UsageError (exit 2) without a platform URL; CliError exit 4 when no capacity workflow runs.
 */
export async function platformCapacity(capacity: number, options: PlatformOptions): Promise<void> {
  await withPlatform(options, async (client, url) =>
    print(await setPlatformCapacity(client, url, capacity), options),
  );
}

async function withPlatform(
  options: PlatformOptions,
  run: (client: Awaited<ReturnType<typeof connectClient>>, url: string) => Promise<void>,
): Promise<void> {
  const env = withStackEnv();
  const raw = options.platform ?? env.DETECTOR_URL;
  if (!raw) throw new UsageError('no platform: set DETECTOR_URL or pass --platform <url>');
  const parsed = baseUrl.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--platform must be an http(s) base URL, got "${raw}"`);
  const client = await connectClient(env);
  try {
    await run(client, parsed.data);
  } catch (err) {
    if (err instanceof PlatformCapacityNotStartedError)
      throw new CliError(ExitCode.NotFound, err.message, { cause: err });
    throw err;
  } finally {
    await client.connection.close();
  }
}

function print(state: CapacityState, options: PlatformOptions): void {
  if (options.json) {
    console.log(JSON.stringify(state, null, 2));
    return;
  }
  const limit = state.capacity + state.allowance;
  console.log(`platform   ${state.platformUrl}`);
  console.log(`capacity   ${state.capacity} (+ ${state.allowance} allowance: at most ${limit} jobs at once)`);
  console.log(`leases     ${state.leases.length} held, ${state.waiting.length} waiting`);
  console.log(`busy until ${state.busyUntil ?? '-'}`);
  console.log(`granted    ${state.granted} (reclaimed ${state.reclaimed})`);
  const rows = [
    ...state.leases.map((l) => ['held', l.holderWorkflowId, l.priority, l.fairnessKey ?? '', l.since]),
    ...state.waiting.map((w) => [
      String(w.position),
      w.holderWorkflowId,
      w.priority,
      w.fairnessKey ?? '',
      w.requestedAt,
    ]),
  ];
  if (rows.length > 0)
    console.log(`\n${formatTable(['position', 'detection', 'priority', 'batch', 'since'], rows)}`);
}
