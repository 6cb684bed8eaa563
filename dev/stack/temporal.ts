/** Launches `temporal server start-dev` and waits until its frontend answers gRPC. */
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.ts';
import { LOOPBACK } from './ports.ts';
import { type LaunchOptions, type ServiceProcess, spawnService, waitHealthy } from './process.ts';
import { findTool } from './tools.ts';

/** Options of `startTemporal`. */
export interface TemporalOptions extends LaunchOptions {
  /** Frontend gRPC port. */
  port: number;
  /** Web UI port; undefined runs the server headless. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; undefined keeps them in memory. */
  dbFile?: string;
  /**
   * Register the custom search attributes (src/shared/search-attributes.ts) with
   * `--search-attribute Name=Type`. Default true; false gives a bare server (what `rdd setup` meets
   * on a new cluster).
   */
  searchAttributes?: boolean;
}

/** A healthy Temporal dev server. */
export interface TemporalService {
  process: ServiceProcess;
  /** `host:port` of the frontend, for `TEMPORAL_ADDRESS`. */
  address: string;
  namespace: string;
  uiUrl?: string;
}

const NAMESPACE = 'default';

/**
 * Starts a Temporal dev server bound to 127.0.0.1 and resolves once the `default` namespace is
 * served (and the UI answers, when enabled).
 * @throws ToolNotFoundError when `temporal` is not installed; ServiceStartError when it does not come up.
 * @example const t = await startTemporal({ port: 7233, uiPort: 8233, logDir, detach: false, timeoutMs: 60_000 })
 */
export async function startTemporal(options: TemporalOptions): Promise<TemporalService> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    LOOPBACK,
    '--port',
    String(options.port),
    '--log-level',
    'warn',
  ];
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
  if (options.dbFile !== undefined) args.push('--db-filename', path.resolve(options.dbFile));
  if (options.searchAttributes ?? true) args.push(...searchAttributeFlags());

  const child = await spawnService({
    name: 'temporal',
    command: findTool('temporal'),
    args,
    logDir: options.logDir,
    detach: options.detach,
    onSpawn: options.onSpawn,
  });
  const address = `${LOOPBACK}:${options.port}`;
  const uiUrl = options.uiPort === undefined ? undefined : `http://${LOOPBACK}:${options.uiPort}`;
  await waitHealthy(child, () => namespaceServed(address, NAMESPACE), {
    timeoutMs: options.timeoutMs,
    what: `namespace "${NAMESPACE}" served at ${address}`,
  });
  // The dev server ignores --search-attribute for a database it did not create: a stack kept from
  // before an attribute existed gets it here (what `rdd setup` does; idempotent).
  if (options.dbFile !== undefined && (options.searchAttributes ?? true)) {
    const { Connection } = await import('@temporalio/client');
    const { setupCluster } = await import('../../src/starters/setup-action.ts');
    const connection = await Connection.connect({ address });
    try {
      await setupCluster(connection, { namespace: NAMESPACE, retentionDays: 1 });
    } finally {
      await connection.close();
    }
  }
  if (uiUrl !== undefined) {
    await waitHealthy(child, async () => (await fetch(uiUrl, { signal: AbortSignal.timeout(2_000) })).ok, {
      timeoutMs: options.timeoutMs,
      what: `Web UI at ${uiUrl}`,
    });
  }
  return { process: child, address, namespace: NAMESPACE, uiUrl };
}

/**
 * `--search-attribute Name=Type` for every custom search attribute, in the dev server's spelling of
 * the type (`KEYWORD_LIST` → `KeywordList`). Pure.
 * @example searchAttributeFlags() // ['--search-attribute', 'DetectionPhase=Keyword', …]
 */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => {
    const type = key.type
      .toLowerCase()
      .replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
    return ['--search-attribute', `${key.name}=${type}`];
  });
}

/**
 * Whether a Temporal frontend at `address` serves `namespace` now.
 * @throws the connection error, so the caller can report the last one.
 */
export async function namespaceServed(address: string, namespace: string): Promise<boolean> {
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}
