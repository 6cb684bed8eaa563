/**
 * What `rdd setup` does (its definition is setup-command.ts): on the cluster the Temporal variables
 * name, creates the namespace when missing and registers the custom search attributes through the
 * operator API, then waits until the frontend accepts queries on them. Idempotent. Loaded only when
 * the command runs.
 */
import { isGrpcServiceError, type ConnectionLike } from '@temporalio/client';
import { msNumberToTs, type SearchAttributeType } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { SearchAttributeConflictError, type SearchAttributeConflict } from './setup-conflict-error.ts';
import type { SetupOptions } from './setup-command.ts';
import { withStackEnv } from './stack-env.ts';
import { withTemporalClient } from './with-temporal-client.ts';

/**
 * Each SDK type as the API's `IndexedValueType` (temporal/api/enums/v1/common.proto) and as the
 * `temporal` CLI and the dev server spell it.
 */
const TYPES: Record<SearchAttributeType, { indexed: number; display: string }> = {
  TEXT: { indexed: 1, display: 'Text' },
  KEYWORD: { indexed: 2, display: 'Keyword' },
  INT: { indexed: 3, display: 'Int' },
  DOUBLE: { indexed: 4, display: 'Double' },
  BOOL: { indexed: 5, display: 'Bool' },
  DATETIME: { indexed: 6, display: 'Datetime' },
  KEYWORD_LIST: { indexed: 7, display: 'KeywordList' },
};

/** gRPC status codes (grpc/doc/statuscodes.md) this module reads. */
const Grpc = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
} as const;

/** The gRPC status code of a service error, undefined for any other error. */
function grpcCode(err: unknown): number | undefined {
  if (!isGrpcServiceError(err)) return undefined;
  const code: number = err.code;
  return code;
}

/** A search attribute to register: what `defineSearchAttributeKey` returns. */
export interface SearchAttributeDefinition {
  name: string;
  type: SearchAttributeType;
}

/** Options of `setupCluster`. */
export interface SetupClusterOptions {
  namespace: string;
  /** Retention of a namespace created here (days). An existing namespace keeps its own. */
  retentionDays: number;
  /** The attributes to register; default every one of src/shared/search-attributes.ts. */
  keys?: readonly SearchAttributeDefinition[];
  /** How long to wait for the frontend to accept queries on them (ms). Default 60 000. */
  readyTimeoutMs?: number;
}

/** What `setupCluster` did. */
export interface SetupReport {
  namespace: string;
  /** True when this call registered the namespace. */
  namespaceCreated: boolean;
  /** One entry per attribute: `added` by this call, or `present` already with the same type. */
  attributes: { name: string; type: string; action: 'added' | 'present' }[];
}

/**
 * Makes `namespace` exist and hold every search attribute in `keys` with its type, through the
 * workflow service (DescribeNamespace, RegisterNamespace) and the operator service
 * (ListSearchAttributes, AddSearchAttributes), then waits until a visibility query naming them all
 * is accepted (the frontend's namespace cache refreshes every few seconds). Idempotent: a second
 * call adds nothing and reports every attribute `present`. Conflicts are checked before anything is
 * added, so a conflicting namespace is left unchanged.
 * @throws SearchAttributeConflictError when a name is registered with another type.
 * @throws the SDK's ServiceError for what the server refuses (PERMISSION_DENIED or UNIMPLEMENTED on Temporal Cloud,
 *   where namespaces are created in the Cloud UI or with tcld; INVALID_ARGUMENT when SQL visibility
 *   has no free slot of a type).
 * @example await setupCluster(client.connection, { namespace: 'rdd', retentionDays: 7 })
 */
export async function setupCluster(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  options: SetupClusterOptions,
): Promise<SetupReport> {
  const { namespace } = options;
  const keys = options.keys ?? SEARCH_ATTRIBUTES;
  const namespaceCreated = await ensureNamespace(connection, namespace, options.retentionDays);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  // A namespace just created is NOT_FOUND to the operator API until the frontend's namespace cache
  // refreshes (seconds).
  const listed = await retrying([Grpc.NOT_FOUND], deadline, () =>
    connection.operatorService.listSearchAttributes({ namespace }),
  );
  const registered: Record<string, number | undefined> = {
    ...(listed.systemAttributes as Record<string, number> | null | undefined),
    ...(listed.customAttributes as Record<string, number> | null | undefined),
  };
  const conflicts: SearchAttributeConflict[] = [];
  const missing: Record<string, number> = {};
  const attributes: SetupReport['attributes'] = [];
  for (const key of keys) {
    const wanted = TYPES[key.type];
    const current = registered[key.name];
    if (current === undefined) {
      missing[key.name] = wanted.indexed;
      attributes.push({ name: key.name, type: wanted.display, action: 'added' });
    } else if (current !== wanted.indexed) {
      const display = Object.values(TYPES).find((t) => t.indexed === current)?.display ?? `type ${current}`;
      conflicts.push({ name: key.name, wanted: wanted.display, registered: display });
    } else {
      attributes.push({ name: key.name, type: wanted.display, action: 'present' });
    }
  }
  if (conflicts.length > 0) throw new SearchAttributeConflictError(namespace, conflicts);
  if (Object.keys(missing).length > 0) {
    await retrying([Grpc.NOT_FOUND], deadline, () =>
      connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing }),
    );
  }
  // A workflow started with an attribute the frontend does not know yet is rejected: wait until a
  // query naming every attribute is accepted.
  const query = keys.map((key) => `${key.name} IS NOT NULL`).join(' OR ');
  await retrying([Grpc.INVALID_ARGUMENT, Grpc.NOT_FOUND], deadline, () =>
    connection.workflowService.countWorkflowExecutions({ namespace, query }),
  );
  return { namespace, namespaceCreated, attributes };
}

/** Registers `namespace` unless it exists; true when this call created it. */
async function ensureNamespace(
  connection: Pick<ConnectionLike, 'workflowService' | 'operatorService'>,
  namespace: string,
  retentionDays: number,
): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if (grpcCode(err) !== Grpc.NOT_FOUND) throw err;
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      description: 'rdd-orchestrator: referential deepfake detection',
      workflowExecutionRetentionPeriod: msNumberToTs(retentionDays * 86_400_000),
    });
    return true;
  } catch (err) {
    // Another `rdd setup` (or an operator) created it between the two calls.
    if (grpcCode(err) === Grpc.ALREADY_EXISTS) return false;
    throw err;
  }
}

/** Runs `call` until it succeeds or fails with a code not in `codes`, or `deadline` (epoch ms) passes. */
async function retrying<T>(codes: readonly number[], deadline: number, call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const code = grpcCode(err);
      if (code === undefined || !codes.includes(code) || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

/**
 * Runs `rdd setup`: one line for the namespace, one per search attribute.
 * @throws CliError 2 on a search attribute conflict (nothing changed); CliError 1 when the server
 *   refuses (e.g. permission denied); CliError 5 when Temporal does not answer.
 */
export async function setupClusterCommand(options: SetupOptions): Promise<void> {
  await withTemporalClient(withStackEnv(), setupError, async (client) => {
    const namespace = client.options.namespace;
    const report = await setupCluster(client.connection, { namespace, retentionDays: options.retentionDays });
    console.log(
      report.namespaceCreated
        ? `namespace ${namespace}: created (retention ${options.retentionDays} days)`
        : `namespace ${namespace}: exists`,
    );
    for (const a of report.attributes) {
      console.log(
        `search attribute ${a.name} (${a.type}): ${a.action === 'added' ? 'added' : 'already registered'}`,
      );
    }
    const added = report.attributes.filter((a) => a.action === 'added').length;
    console.log(`${added === 0 ? 'nothing to do' : `${added} added`}; ${namespace} is ready`);
  });
}

/** `rdd setup`'s errors as exit codes (for `withTemporalClient`). */
function setupError(err: unknown): Error | undefined {
  if (err instanceof SearchAttributeConflictError)
    return new CliError(ExitCode.Usage, err.message, { cause: err });
  const code = grpcCode(err);
  if (code === Grpc.PERMISSION_DENIED || code === Grpc.UNIMPLEMENTED) {
    return new CliError(
      ExitCode.Failed,
      `the server refused: ${(err as Error).message} (on Temporal Cloud, create the namespace and the ` +
        'search attributes in the Cloud UI or with tcld: tcld namespace search-attributes add)',
      { cause: err },
    );
  }
  return undefined;
}
