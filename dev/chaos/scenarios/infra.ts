/**
 * Infrastructure outages (issue 10, "Faults to inject and survive"): the Temporal server stopped and
 * restarted on the same database, S3 (versitygw) stopped and restarted on the same directory, and S3
 * answering `503 SlowDown` through a proxy. Each scenario starts its own parts (dev/chaos/infra-parts.ts),
 * runs a batch of detections through one `rdd worker` child process, breaks the part mid-batch and
 * measures what the contract asks (dev/chaos/scenario.ts). Development tool: not shipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosContext, ChaosOutcome, ChaosScenario } from '../scenario.ts';
import {
  settle,
  startInfra,
  startPairs,
  watchProgress,
  type InfraParts,
  type PairBatch,
} from '../infra-parts.ts';

/** Pairs per batch: quick and full sizes. */
const PAIRS = { quick: 20, full: 60 } as const;
/** How long a batch may take to settle after its fault ended (ms). */
const SETTLE_MS = { quick: 4 * 60_000, full: 8 * 60_000 } as const;

/** The part of every scenario around its fault: parts up, batch started, fault, settle, close. */
async function withBatch(
  ctx: ChaosContext,
  name: string,
  options: Parameters<typeof startInfra>[1],
  fault: (parts: InfraParts, batch: PairBatch) => Promise<{ faultEnded: number; notes: string[] }>,
): Promise<ChaosOutcome> {
  const began = Date.now();
  const size = ctx.quick ? PAIRS.quick : PAIRS.full;
  ctx.log(`${name}: starting Temporal, versitygw, the emulator and a worker`);
  const parts = await startInfra(ctx, options);
  const watch = watchProgress(parts);
  try {
    const batch = await startPairs(parts, name, size);
    ctx.log(`${name}: ${size} detections started`);
    // Mid-batch: a few recorded, most still to do.
    await watch.waitForResults(Math.max(2, Math.ceil(size * 0.1)), 180_000);
    ctx.log(`${name}: ${watch.results()}/${size} recorded; injecting the fault`);
    const atFault = `at the fault ${watch.results()}/${size} recorded, ${watch.accepted()} accepted by the platform`;
    const { faultEnded, notes } = await fault(parts, batch);
    notes.unshift(`${atFault}; when it ended ${watch.results()} recorded, ${watch.accepted()} accepted`);
    const outcome = await settle(parts, batch, ctx.quick ? SETTLE_MS.quick : SETTLE_MS.full);
    outcome.recoverySeconds = watch.recoverySeconds(faultEnded);
    outcome.notes.push(...notes, ...parts.workers.unexpectedExits);
    if (parts.workers.unexpectedExits.length === 0)
      outcome.notes.push('the worker process kept running throughout');
    if (parts.proxy) {
      const { forwarded, slowDown } = parts.proxy.counts();
      outcome.notes.push(`S3 proxy: ${slowDown} requests answered 503 SlowDown, ${forwarded} passed through`);
    }
    outcome.seconds = Math.round((Date.now() - began) / 100) / 10;
    ctx.log(
      `${name}: ${outcome.completed}/${outcome.started} completed, ${outcome.failed.length} failed, ` +
        `${outcome.stuck} stuck, recovery ${outcome.recoverySeconds ?? '-'} s`,
    );
    return outcome;
  } finally {
    watch.stop();
    await parts.close();
  }
}

/** Stops Temporal for `outageMs` and starts it again on the same port and SQLite file. */
function temporalStop(outageMs: number) {
  return async (parts: InfraParts): Promise<{ faultEnded: number; notes: string[] }> => {
    const before = parts.workers.unexpectedExits.length;
    await parts.temporal.stop();
    await sleep(outageMs);
    const downExits = parts.workers.unexpectedExits.length - before;
    // Recovery counts from the restart command, so it includes the server's own start-up.
    const faultEnded = Date.now();
    await parts.temporal.start();
    return {
      faultEnded,
      notes: [
        `Temporal down ${Math.round(outageMs / 1000)} s; its restart took ${((Date.now() - faultEnded) / 1000).toFixed(1)} s` +
          (downExits > 0 ? `; the worker exited ${downExits}× while it was down` : ''),
      ],
    };
  };
}

/** Stops versitygw for `outageMs` and starts it again on the same port and directory. */
function s3Stop(outageMs: number) {
  return async (parts: InfraParts): Promise<{ faultEnded: number; notes: string[] }> => {
    await parts.s3.stop();
    await sleep(outageMs);
    const faultEnded = Date.now();
    await parts.s3.start();
    return {
      faultEnded,
      notes: [
        `S3 down ${Math.round(outageMs / 1000)} s; its restart took ${((Date.now() - faultEnded) / 1000).toFixed(1)} s`,
      ],
    };
  };
}

const noMoreThanOneSubmissionEach = (outcome: ChaosOutcome): string[] =>
  outcome.duplicateSubmissions > 0
    ? [
        `${outcome.duplicateSubmissions} duplicate submission(s) to the platform: an outage of ` +
          'Temporal or S3 must not make a job be submitted twice',
      ]
    : [];

/** Every infrastructure scenario, in the order `npm run chaos` runs them. */
export const scenarios: ChaosScenario[] = [
  {
    name: 'temporal-stop-10s',
    description:
      'The Temporal server is stopped mid-batch (a batch of detections running through one `rdd worker`) ' +
      'and restarted on the same SQLite database after 10 s. The worker must reconnect by itself (or exit ' +
      'non-zero, and be restarted as a supervisor would: noted), every workflow completes with exactly one ' +
      'result object, and no job is submitted to the platform twice. Recovery: restart done → first progress.',
    quick: true,
    run: (ctx) => withBatch(ctx, 'temporal-stop-10s', {}, temporalStop(10_000)),
    check: noMoreThanOneSubmissionEach,
  },
  {
    name: 'temporal-stop-2min',
    description:
      'As temporal-stop-10s, with the Temporal server down for 2 minutes: longer than the SDK connection ' +
      'retries and most activity retry intervals, so the worker and the workflows must ride out a long ' +
      'outage; every workflow completes, one result object each, no duplicate submission.',
    quick: false,
    run: (ctx) => withBatch(ctx, 'temporal-stop-2min', {}, temporalStop(120_000)),
    check: noMoreThanOneSubmissionEach,
  },
  {
    name: 's3-unavailable-1min',
    description:
      'versitygw (the S3 server holding the media and the results) is stopped mid-batch for 60 s (20 s with ' +
      '--quick) and restarted on the same directory. Media reads and result writes fail meanwhile and are ' +
      'retried by Temporal; afterwards every workflow completes with exactly one result object.',
    quick: true,
    run: (ctx) => withBatch(ctx, 's3-unavailable-1min', {}, s3Stop(ctx.quick ? 20_000 : 60_000)),
    check: noMoreThanOneSubmissionEach,
  },
  {
    name: 's3-slowdown',
    description:
      'The worker talks to S3 through a proxy that answers `503 SlowDown` (the AWS throttling reply) to 20 % ' +
      'of requests (seeded) for the whole batch, and to every request for 15 s (45 s full) mid-batch. The ' +
      'SDK and Temporal retries must get every media read and result write through: every workflow ' +
      'completes, nothing recorded twice, no job submitted twice.',
    quick: true,
    run: (ctx) =>
      withBatch(ctx, 's3-slowdown', { slowDownProxy: true }, async (parts) => {
        const windowMs = ctx.quick ? 15_000 : 45_000;
        const proxy = parts.proxy!;
        proxy.setFault({ fraction: 0.2, allUntil: Date.now() + windowMs });
        await sleep(windowMs);
        const faultEnded = Date.now();
        return {
          faultEnded,
          notes: [
            `SlowDown window ${windowMs / 1000} s, then 20 % of requests; ` +
              `during the window ${proxy.counts().slowDown} answered 503 SlowDown`,
          ],
        };
      }),
    check: noMoreThanOneSubmissionEach,
  },
];
