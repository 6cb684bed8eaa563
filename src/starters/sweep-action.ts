/**
 * What `rdd sweep …` does (its definition is sweep-command.ts): checks the arguments and the
 * rules of S3_EVENT_RULES, then manages the sweep schedule through the typed client
 * (src/client/sweeps.ts). Loaded only when a sweep command runs.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { loadEventRules } from '../api/s3-events.ts';
import { cronProblems } from '../client/cron-problems.ts';
import { InvalidScheduleError } from '../client/schedules.ts';
import {
  deleteSweepSchedule,
  ensureSweepSchedule,
  sweepScheduleId,
  triggerSweepSchedule,
} from '../client/sweeps.ts';
import { loadClientConfig } from '../config.ts';
import { ConfigError } from '../config/config-error.ts';
import { CliError, ExitCode, UsageError } from './exit-codes.ts';
import type { SweepCreateOptions } from './sweep-command.ts';
import { withStackEnv } from './stack-env.ts';
import { withTemporalClient } from './with-temporal-client.ts';

/**
 * Runs `rdd sweep create <name>`: the rules come from S3_EVENT_RULES (inline JSON or a file).
 * @throws UsageError (2) for bad arguments or rules; CliError 5 when Temporal does not answer.
 */
export async function createSweepCommand(name: string, options: SweepCreateOptions): Promise<void> {
  const env = withStackEnv();
  const problems: string[] = [];
  const prefix = /^s3:\/\/([^/]+)\/?(.*)$/.exec(options.prefix);
  if (!prefix) problems.push(`--prefix "${options.prefix}" is not an s3://bucket/prefix URL`);
  if ((options.every === undefined) === (options.cron === undefined))
    problems.push('give exactly one of --every and --cron');
  if (options.cron !== undefined) problems.push(...cronProblems(options.cron).map((p) => `--${p}`));
  let rules: ReturnType<typeof loadEventRules> = [];
  try {
    rules = loadEventRules(env.S3_EVENT_RULES);
    if (rules.length === 0)
      problems.push(
        env.S3_EVENT_RULES === undefined || env.S3_EVENT_RULES.trim() === ''
          ? 'S3_EVENT_RULES is not set: the sweep needs the event rules'
          : 'S3_EVENT_RULES is an empty list: the sweep needs at least one rule',
      );
  } catch (err) {
    problems.push(...(err instanceof ConfigError ? err.problems : [(err as Error).message]));
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  const config = loadClientConfig(env);
  await withTemporalClient(env, sweepError, async (client) => {
    const { scheduleId, created, updated } = await ensureSweepSchedule(client, {
      name,
      bucket: prefix![1]!,
      prefix: prefix![2]!,
      rules,
      ...(options.every !== undefined && { every: options.every }),
      ...(options.cron !== undefined && { cron: options.cron }),
      taskQueue: config.taskQueue,
      ...(options.pageSize !== undefined && { pageSize: options.pageSize }),
    });
    const when = options.every !== undefined ? `every ${options.every}` : `cron '${options.cron}'`;
    console.log(
      `${created ? 'created' : updated ? 'updated' : 'unchanged'} ${scheduleId}: ${options.prefix} ${when}, ` +
        `${rules.length} rule${rules.length === 1 ? '' : 's'} (overlap SKIP, catch-up 1h)`,
    );
  });
}

/**
 * Runs `rdd sweep delete|trigger <name>`.
 * @throws UsageError (2) for a bad name; CliError 4 (trigger: no such sweep), 5.
 */
export async function sweepNameCommand(command: 'delete' | 'trigger', name: string): Promise<void> {
  let scheduleId: string;
  try {
    scheduleId = sweepScheduleId(name);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  await withTemporalClient(withStackEnv(), sweepError, async (client) => {
    if (command === 'delete') {
      // As `rdd schedule delete`: a sweep that is not there is exit 4, said so.
      if (!(await deleteSweepSchedule(client, name)))
        throw new CliError(ExitCode.NotFound, `no such sweep ${scheduleId}: nothing to delete`);
      console.log(`deleted ${scheduleId}`);
    } else {
      await triggerSweepSchedule(client, name);
      console.log(`triggered ${scheduleId}`);
    }
  });
}

/** The sweep commands' errors as exit codes (for `withTemporalClient`). */
function sweepError(err: unknown): Error | undefined {
  if (err instanceof ScheduleNotFoundError)
    // The SDK's message names neither the sweep nor what to do.
    return new CliError(
      ExitCode.NotFound,
      `no such sweep ${err.scheduleId} (rdd sweep create ${err.scheduleId.replace(/^sweep-/, '')} … makes it)`,
      { cause: err },
    );
  if (err instanceof InvalidScheduleError) return new UsageError(err.message);
  return undefined;
}
